// One configured S3 client per target: custom endpoint with path-style keys, http or https with
// a site CA, credentials from OpenCHAMI's S3_ACCESS/S3_SECRET or the AWS SDK default chain, and
// the SDK's own retries (throttling, 5xx, dropped connections) with exponential backoff.
import { readFileSync } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { makeRedactor } from "../core/redact.js";
import { PublishError, PublishInputError } from "./errors.js";
import { skipPayloadHashWhereSafe } from "./s3-payload.js";
import type { S3Target } from "./targets.js";

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3ClientOptions {
  /** Explicit credentials; otherwise S3_ACCESS/S3_SECRET, otherwise the SDK default chain. */
  readonly credentials?: S3Credentials;
  /** Attempts per request including the first (default 6: ~0.1+0.2+0.4+0.8+1.6 s of backoff, capped at 20 s each). */
  readonly maxAttempts?: number;
  /** Concurrent connections (at least the upload queue size). */
  readonly maxSockets?: number;
  /** Socket idle timeout before a stuck request is failed and retried (default 60 s). */
  readonly requestTimeoutMs?: number;
  /** Environment to read S3_ACCESS/S3_SECRET from (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

export const DEFAULT_REGION = "us-east-1";

/** Credentials from OpenCHAMI's variables, when both are set. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): S3Credentials | undefined {
  const accessKeyId = env.S3_ACCESS;
  const secretAccessKey = env.S3_SECRET;
  if (accessKeyId && secretAccessKey) return { accessKeyId, secretAccessKey };
  return undefined;
}

export function createS3Client(target: S3Target, options: S3ClientOptions = {}): S3Client {
  // The SDK warns on Node 20 that future SDK releases need Node 22; bootsmith pins its SDK
  // version, so the warning only adds noise to every publish. An explicit setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const custom = target.endpoint !== undefined;
  if (custom) checkEndpoint(target.endpoint!);
  const maxSockets = Math.max(options.maxSockets ?? 16, 4);
  const requestTimeout = options.requestTimeoutMs ?? 60_000;
  const ca = target.caFile ? readCa(target.caFile) : undefined;
  const config: S3ClientConfig = {
    region: target.region ?? DEFAULT_REGION,
    endpoint: target.endpoint,
    forcePathStyle: target.forcePathStyle ?? custom,
    credentials: options.credentials ?? credentialsFromEnv(options.env ?? process.env),
    maxAttempts: options.maxAttempts ?? 6,
    retryMode: "standard",
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets, ...(ca ? { ca } : {}) }),
      connectionTimeout: 10_000,
      requestTimeout,
    },
  };
  if (custom) {
    // Ceph answers 411 to the streaming-checksum uploads the SDK sends by default, and other
    // S3-compatible servers ignore the trailers: compute checksums only where the API needs them
    // and verify bytes by sha256 ourselves.
    config.requestChecksumCalculation = "WHEN_REQUIRED";
    config.responseChecksumValidation = "WHEN_REQUIRED";
  }
  const client = new S3Client(config);
  skipPayloadHashWhereSafe(client, target.endpoint);
  return client;
}

function checkEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch (error) {
    throw new PublishInputError(`S3 endpoint ${JSON.stringify(endpoint)} is not a URL; expected e.g. http://127.0.0.1:7480`, { cause: error });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new PublishInputError(`S3 endpoint ${endpoint}: only http:// and https:// are supported`);
  }
}

function readCa(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new PublishInputError(`S3 caFile ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * Turn an SDK or network error into a PublishError that says what to fix. Secrets are never part
 * of it: the SDK's messages do not carry them, and the environment's S3 keys plus any value in
 * `redact` are hidden (core/redact.ts) in case a server echoes one back.
 */
export function explainS3Error(error: unknown, what: string, target: S3Target, redact: readonly string[] = []): PublishError {
  if (error instanceof PublishError) return error;
  const e = (typeof error === "object" && error !== null ? error : {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  const endpoint = target.endpoint ?? "AWS S3";
  const where = `${endpoint} bucket ${target.bucket}`;
  const text = e.message ?? String(error);
  const detail = `${e.name ?? e.code ?? "Error"}${status ? ` (HTTP ${status})` : ""}: ${text}`;
  let message: string;
  let kind: PublishError["kind"];
  switch (classify(e, text)) {
    case "no-credentials":
      kind = "credentials";
      message = `${what}: no S3 credentials were found (${text}), so nothing was sent to ${endpoint}. Set S3_ACCESS and S3_SECRET (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) to the key pair for bucket ${target.bucket}.`;
      break;
    case "credentials":
      kind = "credentials";
      message = `${what}: ${where} rejected the credentials (${e.name ?? "CredentialsProviderError"}). Set S3_ACCESS/S3_SECRET (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE) to a valid key pair.`;
      break;
    case "access-denied":
      kind = "access-denied";
      message = `${what}: ${where} denied access (${detail}). The key needs s3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket and s3:AbortMultipartUpload on the bucket.`;
      break;
    case "no-such-bucket":
      kind = "no-such-bucket";
      message = `${what}: bucket ${target.bucket} does not exist at ${endpoint}; create it first (e.g. aws s3 mb s3://${target.bucket} --endpoint-url …).`;
      break;
    case "unreachable":
      kind = "unreachable";
      message = `${what}: cannot reach ${endpoint} (${detail}). ${endpointAdvice(target)}`;
      break;
    case "dropped":
      kind = "transfer-failed";
      message = `${what}: the connection to ${endpoint} kept dropping (${detail}) and the retries did not get through; partial multipart uploads were aborted and manifest.json was not written. Publishing again resumes: objects already uploaded are skipped.`;
      break;
    case "altered":
      kind = "transfer-failed";
      message = `${what}: ${endpoint} received a body that does not hash to what was sent (${detail}): something between here and the server altered the bytes. Nothing was stored under that key and manifest.json was not written; check the proxies on the path, or use https.`;
      break;
    case "tls":
      kind = "unreachable";
      message = `${what}: the TLS certificate of ${endpoint} is not trusted (${detail}). Give the CA that signed it with caFile / --ca-file.`;
      break;
    case "other":
      kind = "transfer-failed";
      message = `${what}: ${where}: ${detail}`;
      break;
  }
  return new PublishError(makeRedactor([...s3EnvSecrets(process.env), ...redact])(message), kind, { cause: error });
}

/** The secret halves of the S3 credentials the environment gives the SDK. */
function s3EnvSecrets(env: NodeJS.ProcessEnv): string[] {
  return [env.S3_SECRET, env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN].filter((s): s is string => s !== undefined && s !== "");
}

/** What to check when the endpoint cannot be reached, naming where it was given. */
function endpointAdvice(target: S3Target): string {
  if (target.endpoint === undefined)
    return "Check that AWS S3 can be reached from here; no endpoint was given (--endpoint, $S3_ENDPOINT or endpoint: in the recipe's publish entry), so AWS is used.";
  return `Check the endpoint, given by ${target.endpointFrom ?? "the target"}, and that the server is running.`;
}

type S3Failure = "no-credentials" | "credentials" | "access-denied" | "no-such-bucket" | "unreachable" | "dropped" | "altered" | "tls" | "other";

const TLS_CODES =
  /\b(DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID)\b|self[- ]signed certificate/;

function classify(e: SdkErrorShape, text: string): S3Failure {
  switch (e.name) {
    case "SignatureDoesNotMatch":
    case "InvalidAccessKeyId":
    case "InvalidToken":
    case "ExpiredToken":
      return "credentials";
    case "CredentialsProviderError": // the SDK's chain found none: no request was made
      return "no-credentials";
    case "AccessDenied":
    case "Forbidden":
      return "access-denied";
    case "NoSuchBucket":
      return "no-such-bucket";
    case "XAmzContentSHA256Mismatch": // the signed payload hash (plain http)
    case "BadDigest": // Content-MD5 or a flexible checksum
      return "altered";
    default:
      break; // not named by the service: look at codes and text below
  }
  if (TLS_CODES.test(`${e.code ?? ""} ${text}`)) return "tls";
  // Network failures arrive as plain Errors or as the SDK's TimeoutError wrapping the errno.
  const errno = e.code ?? /\b(E[A-Z]+)\b/.exec(text)?.[1];
  switch (errno) {
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "unreachable";
    case "ECONNRESET":
    case "EPIPE":
    case "ETIMEDOUT":
      return "dropped";
    default:
      break;
  }
  if (/socket hang up/i.test(text)) return "dropped";
  if (e.name === "TimeoutError") return "unreachable";
  return "other";
}
