// Example: sign an MCUboot image in the browser with an ECDSA P-256 key that WebCrypto made non-extractable, so the
// private key never exists outside the browser's key store. The image comes from `mcumgr image sign` without -k
// (hash only); the result verifies with the public key shown, on a device built with it.
import { addSignature, webCryptoPublicKeyBytes, webCryptoSigner, type ImageSigner } from '../src/image/index.js';

export interface BrowserSigningKey {
  signer: ImageSigner;
  /** The public key as PEM, for `mcumgr image verify -k` and the device build. */
  publicKeyPem: string;
}

/** A fresh P-256 key pair whose private half cannot be exported. */
export async function createSigningKey(subtle: SubtleCrypto = crypto.subtle): Promise<BrowserSigningKey> {
  const pair = (await subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  const publicKey = await webCryptoPublicKeyBytes('ecdsa-p256', pair.publicKey, subtle);
  const lines = btoa(String.fromCharCode(...publicKey))
    .match(/.{1,64}/g)!
    .join('\n');
  return {
    signer: webCryptoSigner('ecdsa-p256', pair.privateKey, publicKey, subtle),
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${lines}\n-----END PUBLIC KEY-----\n`,
  };
}

/** Signs a hash-only image with the key. */
export function signInBrowser(image: Uint8Array, key: BrowserSigningKey): Promise<Uint8Array> {
  return addSignature(image, key.signer);
}

function wirePage(): void {
  const input = document.querySelector<HTMLInputElement>('#image')!;
  const status = document.querySelector<HTMLElement>('#status')!;
  const pem = document.querySelector<HTMLElement>('#public-key')!;
  let key: Promise<BrowserSigningKey> | undefined;
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (!file) return;
    key ??= createSigningKey().then((k) => {
      pem.textContent = k.publicKeyPem;
      return k;
    });
    void (async () => {
      try {
        const signed = await signInBrowser(new Uint8Array(await file.arrayBuffer()), await key!);
        const link = document.createElement('a');
        link.href = URL.createObjectURL(new Blob([new Uint8Array(signed)]));
        link.download = file.name.replace(/(\.bin)?$/, '.signed.bin');
        link.textContent = `download ${link.download} (${signed.length} bytes)`;
        status.className = '';
        status.replaceChildren(link);
      } catch (err) {
        status.className = 'error';
        status.textContent = `${file.name}: ${(err as Error).message}`;
      }
    })();
  });
}

if (typeof document !== 'undefined') wirePage();
