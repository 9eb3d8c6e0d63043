/**
 * Test helpers for hand-made struct files.
 *
 * @module
 */

import { fnv1a64, OFFSET } from "../struct_file/_format.ts";

/**
 * A copy of a valid struct file whose schema `change` edits in place: the schema length,
 * data offset and layout hash are made to match, so the edited schema reaches validation.
 */
export function rewriteSchema(file: Uint8Array, change: (schema: Record<string, unknown>) => void): Uint8Array {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const length = Number(dv.getBigUint64(OFFSET.schemaLength, true));
  const oldData = Number(dv.getBigUint64(OFFSET.dataOffset, true));
  const schema = JSON.parse(new TextDecoder().decode(file.subarray(128, 128 + length)));
  change(schema);
  const text = new TextEncoder().encode(JSON.stringify(schema));
  const dataOffset = Math.ceil((128 + text.length) / 64) * 64;
  const out = new Uint8Array(dataOffset + file.length - oldData);
  out.set(file.subarray(0, 128));
  out.set(text, 128);
  out.set(file.subarray(oldData), dataOffset);
  const odv = new DataView(out.buffer);
  odv.setBigUint64(OFFSET.schemaLength, BigInt(text.length), true);
  odv.setBigUint64(OFFSET.dataOffset, BigInt(dataOffset), true);
  odv.setBigUint64(OFFSET.layoutHash, fnv1a64(text), true);
  return out;
}
