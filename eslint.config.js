// Lint: typescript-eslint's type-checked recommended rules on src/ and test/, plus exhaustive
// switches (a new Action kind or error kind must be handled everywhere). Generated and vendored
// files, and the plain-JS scripts, are out. The layering of src/ is checked by depcruise
// (.dependency-cruiser.cjs), run by the same `npm run lint`.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "schema/", "coverage/", "**/*.mjs", "**/*.cjs", "**/*.d.mts", "eslint.config.js"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ["vitest.config.ts"] }, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "error",
      // A switch over a union lists every member, or says what the rest do in a default.
      "@typescript-eslint/switch-exhaustiveness-check": ["error", { considerDefaultExhaustiveForUnions: true }],
      "@typescript-eslint/no-floating-promises": "error",
      // Style, not safety: async functions that implement an async interface need no await.
      "@typescript-eslint/require-await": "off",
    },
  },
  {
    // The CLI ships as an esbuild bundle (scripts/bundle.mjs), in which import() of a CommonJS
    // package yields only its default export: named exports are undefined there and nowhere
    // else (tests import the sources). A package loaded on demand goes through a module of ours
    // that imports it statically (e.g. src/verify/s3-object.ts), itself imported on demand.
    files: ["src/**/*.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        {
          selector: "ImportExpression[source.type='Literal'][source.value=/^(?![.]|node:)/]",
          message:
            "import() of a package breaks in the bundled CLI when the package is CommonJS: import it statically in a module of ours and import() that module",
        },
      ],
    },
  },
  {
    // Tests read JSON bodies and spy on methods: `any` from JSON.parse and unbound methods are expected there.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/unbound-method": "off",
    },
  },
);
