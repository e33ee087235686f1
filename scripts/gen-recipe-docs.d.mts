// Types for scripts/gen-recipe-docs.mjs (imported by test/recipe/schema-docs.test.ts).
export declare const SCHEMA_FILE: string;
export declare const DOCS_FILE: string;
export declare function renderRecipeDocs(schema: Record<string, unknown>): string;
