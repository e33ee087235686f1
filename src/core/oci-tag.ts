// One tag grammar for recipes, publish targets, promote and registry references.
/** OCI tags: at most 128 characters, word characters, dots and dashes, not starting with . or -; also safe as a path component and an S3 key segment. */
export const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
