// The registration stage's public API, for the build pipeline and the CLI:
//   validateParamsTemplate(template)                      recipe validation, nothing published yet
//   registerPublished(image, template, selectors, target) render params + register (after publish)
//   register(input, target, options)                      register already-rendered params
//   rollback(target, options)                             undo the newest registration
export {
  register,
  registerPublished,
  rollback,
  selectorKeys,
  type ConnectionOptions,
  type RegisterOptions,
  type RegisterResult,
  type RollbackOptions,
  type RollbackResult,
} from "./register.js";
export {
  renderParams,
  validateParamsTemplate,
  joinParams,
  liveRootUrl,
  PARAM_PLACEHOLDERS,
  ParamsTemplateError,
  type ParamPlaceholder,
} from "../core/params.js";
export {
  BOOT_TARGET_TYPES,
  fromRecipeRegistration,
  normalizeSelectors,
  validateSelectors,
  type RecipeRegistrationLike,
  type BootServiceTarget,
  type BootTarget,
  type BootTargetType,
  type BssTarget,
  type RegistrationInput,
  type Selectors,
} from "./targets.js";
export { RegistrationError, type RegistrationErrorKind } from "./errors.js";
export { exportPayload, bssPayload, bootConfigurationSpec } from "./export.js";
export { resolveToken, loadOchamiConfig, ochamiConfigPaths, ochamiServiceUri, ochamiTokenEnvName, type ResolvedToken } from "./auth.js";
export { renderDiff, type EntryChange } from "./diff.js";
export { defaultStateDir, listRecords, type RegistrationRecord } from "./state.js";
export { loadRegisterSource, pickPublished, type RegisterSource } from "./source.js";
export type { ArtifactCheck } from "./preflight.js";
