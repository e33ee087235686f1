// Which tags import moves: a tag is moved only when the target's build is strictly older than the
// bundle's, compared at the full precision the times carry (an image config's created time has
// nanoseconds; a build with SOURCE_DATE_EPOCH has whole seconds, the same for every build of it).
import { describe, expect, it } from "vitest";
import { chooseImportTags, keptTagsNote, nothingPublishedSummary, type HeldBuild } from "../../src/lifecycle/import-tags.js";

const choose = (bundleBuiltAt: string, held: HeldBuild | undefined) => chooseImportTags(["latest"], bundleBuiltAt, async () => held, false);

describe("chooseImportTags", () => {
  it("moves a tag the target lacks, holds the same build in, or holds a strictly older build in", async () => {
    expect(await choose("2026-12-02T17:33:24Z", undefined)).toEqual({ publish: ["latest"], kept: [] });
    expect(await choose("2026-12-02T17:33:24Z", { same: true, builtAt: "2026-12-02T17:33:25Z" })).toEqual({ publish: ["latest"], kept: [] });
    expect(await choose("2026-12-02T17:33:24.5Z", { same: false, builtAt: "2026-12-02T17:33:24.4999999Z" })).toEqual({ publish: ["latest"], kept: [] });
    // the same instant written with an offset
    expect(await choose("2026-12-02T17:33:24.2Z", { same: false, builtAt: "2026-12-02T18:33:24.1+01:00" })).toEqual({ publish: ["latest"], kept: [] });
  });

  it("keeps a tag whose build is newer by less than a millisecond (image configs carry nanoseconds)", async () => {
    const held = { same: false, builtAt: "2026-12-02T17:33:24.036519916Z" };
    expect(await choose("2026-12-02T17:33:24.036519000Z", held)).toEqual({ publish: [], kept: [{ tag: "latest", builtAt: held.builtAt, newer: true }] });
  });

  it("keeps a tag holding a different build of the same time: which is newer is unknown (SOURCE_DATE_EPOCH builds)", async () => {
    const held = { same: false, builtAt: "2026-12-02T17:33:24Z" };
    const choice = await choose("2026-12-02T17:33:24Z", held);
    expect(choice).toEqual({ publish: [], kept: [{ tag: "latest", builtAt: held.builtAt, newer: false }] });
    expect(nothingPublishedSummary(choice.kept, "dir:/srv/boot")).toBe(
      "nothing published to dir:/srv/boot: every tag holds another build, not known to be older than this bundle's (--replace-newer to move them)",
    );
    expect(keptTagsNote(choice.kept, "2026-12-02T17:33:24Z")).toBe(
      "kept latest (built 2026-12-02T17:33:24Z, the same time as this bundle's build): the target's tag holds another build, not known to be older than this bundle's (built 2026-12-02T17:33:24Z); pass --replace-newer to point it at this bundle's build (a rollback)",
    );
  });

  it("keeps a tag of unknown age, and --replace-newer moves every tag without asking", async () => {
    const unknown = await choose("2026-12-02T17:33:24Z", { same: false });
    expect(unknown.kept).toEqual([{ tag: "latest", newer: false }]);
    // The summary says what is known: not that the target's build is newer.
    expect(nothingPublishedSummary(unknown.kept, "s3://boot")).toBe(
      "nothing published to s3://boot: every tag holds another build, not known to be older than this bundle's (--replace-newer to move them)",
    );
    expect((await choose("2026-12-02T17:33:24Z", { same: false, builtAt: "" })).kept).toEqual([{ tag: "latest", builtAt: "", newer: false }]);
    const asked: string[] = [];
    const all = await chooseImportTags(
      ["1", "latest"],
      "2026-12-02T17:33:24Z",
      async (tag) => (asked.push(tag), { same: false, builtAt: "2027-01-01T00:00:00Z" }),
      true,
    );
    expect(all).toEqual({ publish: ["1", "latest"], kept: [] });
    expect(asked).toEqual([]);
  });

  it("a bundle whose manifest has no builtAt (an older bootsmith's): every held tag is kept, the note says the time is unknown", async () => {
    const choice = await chooseImportTags(["1"], undefined, async () => ({ same: false, builtAt: "2020-01-01T00:00:00Z" }), false);
    expect(choice).toEqual({ publish: [], kept: [{ tag: "1", builtAt: "2020-01-01T00:00:00Z", newer: false }] });
    expect(keptTagsNote(choice.kept, undefined)).toBe(
      "kept 1 (built 2020-01-01T00:00:00Z): the target's tag holds another build, not known to be older than this bundle's (built at an unknown time); pass --replace-newer to point it at this bundle's build (a rollback)",
    );
  });

  it("says 'newer' when every kept tag's build is newer", () => {
    expect(keptTagsNote([{ tag: "latest", builtAt: "2026-11-27T00:00:00Z", newer: true }], "2026-11-26T00:00:00Z")).toBe(
      "kept latest (built 2026-11-27T00:00:00Z): the target's tag holds a newer build than this bundle's (built 2026-11-26T00:00:00Z); pass --replace-newer to point it at this bundle's build (a rollback)",
    );
    expect(nothingPublishedSummary([{ tag: "latest", builtAt: "2026-11-27T00:00:00Z", newer: true }], "dir:/srv/boot")).toBe(
      "nothing published to dir:/srv/boot: every tag holds a newer build than this bundle's (--replace-newer to move them)",
    );
  });

  it("speaks of several kept tags in the plural", () => {
    const kept = [
      { tag: "1", builtAt: "2026-11-27T00:00:00Z", newer: true },
      { tag: "latest", builtAt: "2026-11-27T00:00:00Z", newer: true },
    ];
    expect(keptTagsNote(kept, "2026-11-26T00:00:00Z")).toBe(
      "kept 1 (built 2026-11-27T00:00:00Z), latest (built 2026-11-27T00:00:00Z): the target's tags hold a newer build than this bundle's (built 2026-11-26T00:00:00Z); pass --replace-newer to point them at this bundle's build (a rollback)",
    );
  });
});
