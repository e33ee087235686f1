// What an S3 failure tells the user to check, without a server: the SDK's error shapes are
// built here as the SDK throws them.
import { describe, expect, it } from "vitest";
import { explainS3Error } from "../../src/publish/s3-client.js";
import { publishRequest, PUBLISH_OPTIONS } from "../../src/cli/publish.js";
import { parseCommandArgs } from "../../src/cli/args.js";
import type { S3Target } from "../../src/publish/targets.js";

const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });

function targetOf(args: string[], env: NodeJS.ProcessEnv): S3Target {
  const { values } = parseCommandArgs("publish", ["/out", ...args], PUBLISH_OPTIONS);
  return publishRequest(values, env).target as S3Target;
}

describe("an unreachable S3 endpoint", () => {
  it("names where the endpoint came from: --endpoint, $S3_ENDPOINT or the recipe's line", () => {
    const what = "publish compute to s3://boot-images/";
    const fromOption = targetOf(["--to", "s3://boot-images", "--endpoint", "http://127.0.0.1:1"], {});
    expect(explainS3Error(refused, what, fromOption).message).toContain("Check the endpoint, given by --endpoint, and that the server is running.");
    const fromEnv = targetOf(["--to", "s3://boot-images"], { S3_ENDPOINT: "http://127.0.0.1:1" });
    expect(explainS3Error(refused, what, fromEnv).message).toContain("Check the endpoint, given by $S3_ENDPOINT, and that the server is running.");
    const fromRecipe: S3Target = {
      type: "s3",
      bucket: "boot-images",
      endpoint: "http://127.0.0.1:1",
      endpointFrom: "publish[0].endpoint at /srv/site.yaml:9:15",
    };
    const message = explainS3Error(refused, what, fromRecipe).message;
    expect(message).toBe(
      "publish compute to s3://boot-images/: cannot reach http://127.0.0.1:1 (Error: connect ECONNREFUSED 127.0.0.1:1). Check the endpoint, given by publish[0].endpoint at /srv/site.yaml:9:15, and that the server is running.",
    );
  });

  it("without an endpoint (AWS), says how to give one", () => {
    const message = explainS3Error(refused, "put s3://b/k", { type: "s3", bucket: "boot-images" }).message;
    expect(message).toContain("cannot reach AWS S3");
    expect(message).toContain("no endpoint was given (--endpoint, $S3_ENDPOINT or endpoint: in the recipe's publish entry)");
  });
});

describe("no S3 credentials at all", () => {
  it("says none were found and nothing was sent, not that the server rejected them", () => {
    // What the SDK's default chain throws when no provider has credentials: the server is never asked.
    const none = Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" });
    const target: S3Target = { type: "s3", bucket: "boot-images", endpoint: "http://127.0.0.1:7480" };
    const error = explainS3Error(none, "publish compute to s3://boot-images/", target);
    expect(error.kind).toBe("credentials");
    expect(error.message).toBe(
      "publish compute to s3://boot-images/: no S3 credentials were found (Could not load credentials from any providers), so nothing was sent to http://127.0.0.1:7480. Set S3_ACCESS and S3_SECRET (or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) to the key pair for bucket boot-images.",
    );
  });
});

describe("secrets in S3 errors", () => {
  const target: S3Target = { type: "s3", bucket: "data", endpoint: "http://127.0.0.1:9" };
  const saved = { S3_SECRET: process.env.S3_SECRET, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  function withEnv<T>(env: Record<string, string | undefined>, run: () => T): T {
    Object.assign(process.env, env);
    try {
      return run();
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  }

  it("a one-character secret leaves the message readable", () => {
    const expected = explainS3Error(refused, "publish debian-12-live to s3://data/", target).message;
    expect(expected).toContain("cannot reach http://127.0.0.1:9");
    expect(withEnv({ S3_SECRET: "a" }, () => explainS3Error(refused, "publish debian-12-live to s3://data/", target).message)).toBe(expected);
    expect(explainS3Error(refused, "publish debian-12-live to s3://data/", target, ["a"]).message).toBe(expected);
  });

  it("a long secret a server echoes is never printed, whichever command reads S3", () => {
    const echoed = Object.assign(new Error("bad key aws-secret-Hf72kQmVb9 / s3-secret-Zq81xLwPn4"), {
      name: "SomethingOdd",
      $metadata: { httpStatusCode: 400 },
    });
    // Without a list from the caller (import, gc, verify read S3 this way): the environment's keys.
    const message = withEnv(
      { S3_SECRET: "s3-secret-Zq81xLwPn4", AWS_SECRET_ACCESS_KEY: "aws-secret-Hf72kQmVb9" },
      () => explainS3Error(echoed, "reading s3://data/k", target).message,
    );
    expect(message).toBe("reading s3://data/k: http://127.0.0.1:9 bucket data: SomethingOdd (HTTP 400): bad key *** / ***");
  });
});
