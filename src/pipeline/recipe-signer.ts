// The key that signs a multi-architecture recipe's sets again when `ci push`, `ci join` or a
// graph build's join record pushed digests in their manifest.json (which voids the signature
// the build made): --sign-key, else the recipe's signing.key, read as `build` reads it
// (builder/options.ts). Proven with a trial signature when opened; never logged.
import { UserError } from "../core/errors.js";
import type { CleanupStack } from "../exec/cleanup.js";
import type { LoadedRecipe } from "../recipe/load.js";
import { signingFor, signingKeySource } from "../builder/options.js";
import { openSigner, type Signer } from "../sign/gpg.js";
import { DEFAULT_PASSPHRASE_ENV, parseSigningKey } from "../sign/key.js";

/** --sign-key and --sign-passphrase-env as given (both optional: the recipe's signing: applies). */
export interface SigningChoice {
  readonly signKey?: string;
  readonly signPassphraseEnv?: string;
}

/**
 * Open the recipe's signing key (undefined when neither --sign-key nor signing.key names one).
 * A key that cannot sign is bad input (exit 2), named by where it was given.
 */
export async function openRecipeSigner(recipe: LoadedRecipe, choice: SigningChoice, cleanup: CleanupStack): Promise<Signer | undefined> {
  const sign = signingFor(recipe, choice);
  if (!sign) return undefined;
  try {
    return await openSigner(parseSigningKey(sign.key), { cleanup, passphrase: process.env[sign.passphraseEnv ?? DEFAULT_PASSPHRASE_ENV] });
  } catch (error) {
    throw new UserError(`${signingKeySource(recipe, choice)}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
