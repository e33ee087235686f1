// The `bootsmith …` commands the plan renders for publish and register parse back, through the
// CLI's own flag handling, into exactly the recipe's target: running the plan's line by hand
// publishes and registers where the build does.
import { describe, expect, it } from "vitest";
import { publishTargetArgs, registrationArgs } from "../../src/plan/commands.js";
import { PUBLISH_OPTIONS, publishRequest } from "../../src/cli/publish.js";
import { TARGET_OPTIONS, selectorsFrom, targetFrom } from "../../src/cli/register.js";
import { parseCommandArgs } from "../../src/cli/args.js";
import { PublishTargetSchema, RegistrationSchema } from "../../src/recipe/schema.js";
import { fromRecipeRegistration } from "../../src/register/targets.js";

/** What the S3 client and the publishers make of a target (their defaults filled in; endpointFrom only words messages). */
function effective(target: Record<string, unknown>): Record<string, unknown> {
  if (target.type !== "s3") return { tlsVerify: true, ...target };
  const { endpointFrom: _from, ...rest } = target;
  return { prefix: "", layout: "bootsmith", forcePathStyle: Boolean(target.endpoint), ...rest };
}

const STORAGE = ["--root", "/srv/storage", "--runroot", "/run/bootsmith/x", "--storage-driver", "vfs"];

describe("publish: the plan's flags rebuild the recipe's target", () => {
  const targets = [
    { type: "s3", bucket: "boot-images" },
    {
      type: "s3",
      bucket: "boot-images",
      prefix: "images",
      endpoint: "http://s3.local:7480",
      region: "eu-1",
      publicBase: "http://s3.local:7480/boot-images",
      caFile: "/etc/ca.pem",
    },
    { type: "s3", bucket: "boot-images", prefix: "site/", layout: "image-builder", endpoint: "http://s3.local:7480", forcePathStyle: false },
    { type: "s3", bucket: "aws-bucket", forcePathStyle: true },
    { type: "local", dir: "/srv/images" },
    { type: "local", dir: "/srv/it's here", publicBase: "http://head:8080" },
    { type: "registry", repository: "registry.local:5000/images/x" },
    { type: "registry", repository: "registry.local:5000/images/x", tlsVerify: false, authFile: "/etc/auth.json" },
    { type: "registry", repository: "registry.local:5000/images/x", tlsVerify: false, lookaside: "/srv/sigstore" },
  ] as const;
  for (const input of targets) {
    it(JSON.stringify(input), () => {
      const target = PublishTargetSchema.parse(input);
      const { values } = parseCommandArgs("publish", ["/out", ...publishTargetArgs(target, STORAGE)], PUBLISH_OPTIONS);
      const { target: parsed, storage } = publishRequest(values, {});
      expect(effective(parsed as unknown as Record<string, unknown>)).toEqual(effective(target as unknown as Record<string, unknown>));
      expect(storage).toEqual(target.type === "registry" ? { root: "/srv/storage", runRoot: "/run/bootsmith/x", driver: "vfs" } : {});
    });
  }
});

describe("register: the plan's flags rebuild the recipe's registration", () => {
  const registrations = [
    { type: "bss", url: "http://bss:27778", macs: ["52:54:00:00:00:01"], nids: [1, 2], params: "quiet x=1", tokenEnv: "SITE_TOKEN", caFile: "/etc/ca.pem" },
    { type: "bss", url: "https://bss.example/boot/v1", hosts: ["x1000c0s0b0n0"] },
    { type: "boot-service", url: "http://bs:8080", name: "compute", groups: ["compute", "gpu"], priority: 40, legacy: true, macs: ["52:54:00:00:00:02"] },
    { type: "boot-service", url: "http://bs:8080", name: "login", groups: ["login"] },
  ] as const;
  for (const input of registrations) {
    it(JSON.stringify(input), () => {
      const r = RegistrationSchema.parse(input);
      const args = registrationArgs(r);
      const { values } = parseCommandArgs("register", ["/var/tmp/bootsmith/b1/published-1.json", ...args], {
        ...TARGET_OPTIONS,
        "extra-params": { type: "string" },
      });
      const expected = fromRecipeRegistration(r);
      expect(targetFrom("register", values, {})).toEqual(expected.target);
      expect(selectorsFrom("register", values)).toEqual(expected.selectors);
      expect(values["extra-params"] ?? "").toBe(expected.extraParams);
    });
  }
});
