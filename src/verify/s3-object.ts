// One object of a set read from S3, for verify's s3:// source. Its own module, loaded on the first
// read: the AWS SDK is CommonJS, and the CLI bundle (scripts/bundle.mjs) gives a dynamic import()
// of a CommonJS package only its default export, so the SDK's classes are imported statically here.
import type { Readable } from "node:stream";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";

/** The object's body, or undefined when the bucket has no such key. */
export async function getObjectBody(client: S3Client, bucket: string, key: string, signal?: AbortSignal): Promise<Readable | undefined> {
  try {
    const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    return result.Body as Readable;
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name === "NoSuchKey" || e.name === "NotFound" || e.$metadata?.httpStatusCode === 404) return undefined;
    throw error;
  }
}
