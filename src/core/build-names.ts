// The names a build gives what it makes in buildah's storage, both from its build ID, so that
// housekeeping (builder/superseded-images.ts) can tell a live build's image from one a killed
// build left: the working container is there as long as the build is.

/** The build's working container: exists from create-container to the teardown. */
export function workingContainerName(recipe: string, buildId: string): string {
  return `bootsmith-${recipe}-${buildId}`;
}

export const BUILDING_TAG_PREFIX = "building-";

/** The tag a commit beside the squashfs gives its image until name-image (a tag allows [A-Za-z0-9_.-], up to 128 characters; --build-id is the user's). */
export function buildingTag(buildId: string): string {
  return `${BUILDING_TAG_PREFIX}${buildId}`.replace(/[^\w.-]/g, "-").slice(0, 128);
}
