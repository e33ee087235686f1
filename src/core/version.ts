// The tool version, part of every cache key: a new bootsmith may build differently.
export const TOOL_VERSION = "0.1.0";
