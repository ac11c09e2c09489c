/**
 * AES-256-GCM secret box for upstream api keys at rest. The key is derived from the configured
 * `secret` with HKDF-SHA-256 under a fixed context string; every value gets a random 96-bit IV,
 * and the endpoint id is bound as additional authenticated data so a sealed value cannot be
 * moved to another endpoint. Sealed form: `v1:<iv>:<tag>:<ciphertext>` (base64 parts).
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { LlmlbError } from './errors.js';

const VERSION = 'v1';
const HKDF_SALT = 'llmlb';
const HKDF_INFO = 'llmlb endpoint api_key encryption v1';
/** Shortest accepted `secret`, in characters. */
export const MIN_SECRET_LENGTH = 16;

/** Encrypts and decrypts upstream credentials. */
export interface SecretBox {
  /** Encrypts `plaintext`, binding it to `context` (the endpoint id). */
  seal(plaintext: string, context: string): string;
  /** Decrypts a sealed value; throws `internal_error` if the secret is wrong or the data was altered. */
  open(sealed: string, context: string): string;
}

/**
 * Creates a {@link SecretBox} from a secret of at least {@link MIN_SECRET_LENGTH} characters.
 *
 * @example
 * const box = createSecretBox(process.env.LLMLB_SECRET!);
 * const sealed = box.seal('sk-upstream', endpointId);
 * box.open(sealed, endpointId); // 'sk-upstream'
 */
export function createSecretBox(secret: string): SecretBox {
  if (secret.length < MIN_SECRET_LENGTH) {
    throw new LlmlbError('invalid_request', `secret must be at least ${MIN_SECRET_LENGTH} characters`);
  }
  const key = Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, HKDF_INFO, 32));
  return {
    seal(plaintext, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [VERSION, iv.toString('base64'), tag.toString('base64'), ciphertext.toString('base64')].join(':');
    },
    open(sealed, context) {
      const parts = sealed.split(':');
      if (parts.length !== 4 || parts[0] !== VERSION) {
        throw new LlmlbError('internal_error', 'stored api_key has an unknown format');
      }
      const [, iv, tag, ciphertext] = parts as [string, string, string, string];
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64'));
        return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
      } catch {
        throw new LlmlbError(
          'internal_error',
          'cannot decrypt a stored api_key: the configured secret is not the one it was encrypted with, or the data was altered',
        );
      }
    },
  };
}

/**
 * The plaintext upstream api key of an endpoint, or null when it has none.
 *
 * @example
 * const apiKey = openApiKey(box, record); // 'sk-…' or null
 */
export function openApiKey(box: SecretBox | null, record: { id: string; api_key_encrypted: string | null }): string | null {
  if (record.api_key_encrypted === null) return null;
  if (!box) throw new LlmlbError('internal_error', 'an api_key is stored but no secret is configured');
  return box.open(record.api_key_encrypted, record.id);
}
