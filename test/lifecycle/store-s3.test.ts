// The S3 image store (gc, promote, inspect --target s3://…) finds a set where publish put it:
// the bootsmith layout's prefix is a folder whether or not it ends in "/". No server needed here.
import { describe, expect, it } from "vitest";
import { S3Store } from "../../src/lifecycle/store-s3.js";

describe("S3Store", () => {
  it.each(["images", "images/"])("prefix %j: the tag's folder is images/<name>/<tag>/, as publish lays it out", (prefix) => {
    const store = new S3Store({ type: "s3", bucket: "boot-images", prefix, endpoint: "http://127.0.0.1:9" });
    try {
      expect(store.label).toBe("s3://boot-images/images/");
      expect(store.urlFragment("compute", "1")).toBe("/images/compute/1/");
    } finally {
      store.close();
    }
  });
});
