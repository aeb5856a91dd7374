import "reflect-metadata";
import assert from "node:assert/strict";
import { test } from "node:test";
import { keyTypes } from "../../src/config/schema/pki.ts";
import { KEY_TYPES, parseKeyType } from "../../src/pki/keys.ts";
import { PkiError } from "../../src/pki/errors.ts";

test("config key types match the PKI", () => {
  assert.deepEqual([...keyTypes], [...KEY_TYPES]);
});

test("parseKeyType lists accepted types", () => {
  for (const keyType of KEY_TYPES) assert.equal(parseKeyType(keyType), keyType);
  assert.throws(() => parseKeyType("ecdsa-p224"), (error: unknown) => {
    assert.ok(error instanceof PkiError);
    assert.equal(error.code, "ERR_PKI_KEY_TYPE");
    assert.equal(error.message, 'unsupported key type "ecdsa-p224"; accepted key types: ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096, rsa-8192');
    return true;
  });
});
