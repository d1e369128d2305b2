// The one SHA-256 implementation is core's (Web Crypto); the extension's modules import it from here.
export { sha256Hex } from '../../core/sha256.js';
