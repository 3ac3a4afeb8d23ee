// Generator and drift check for onnx-schema.ts: protobufjs's own parser reads onnx.proto (the
// official ONNX 1.12 schema, committed beside this file) and the committed descriptor must equal
// what it produces. With UPDATE_ONNX_SCHEMA=1 this test (re)writes onnx-schema.ts instead:
//   UPDATE_ONNX_SCHEMA=1 npx vitest run --project unit src/formats/onnx/onnx-schema.test.ts
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { onnxSchema } from './onnx-schema';

const protoPath = fileURLToPath(new URL('./onnx.proto', import.meta.url));
const schemaPath = fileURLToPath(new URL('./onnx-schema.ts', import.meta.url));

/** keepCase: field names stay as in onnx.proto (raw_data, not rawData) in decoded objects. */
function parseSchema(): protobuf.INamespace {
  const parsed = protobuf.parse(readFileSync(protoPath, 'utf8'), { keepCase: true });
  return parsed.root.toJSON();
}

async function render(schema: protobuf.INamespace): Promise<string> {
  const source = `// GENERATED FILE — do not edit. The official ONNX 1.12 schema (onnx.proto beside this file, proto2)
// as a protobufjs JSON descriptor, made by protobufjs's own parser (protobuf.parse, keepCase: true)
// so that the reader loads it with Root.fromJSON in the browser and in Node: no file read, no
// parser and no Vite-only import at run time. Regenerate after changing onnx.proto with:
//   UPDATE_ONNX_SCHEMA=1 npx vitest run --project unit src/formats/onnx/onnx-schema.test.ts
import type { INamespace } from 'protobufjs/light.js';

export const onnxSchema: INamespace = ${JSON.stringify(schema)};
`;
  const config = await prettier.resolveConfig(schemaPath);
  return prettier.format(source, { ...config, filepath: schemaPath });
}

describe('onnx-schema.ts', () => {
  it('equals what protobufjs parses from onnx.proto', async () => {
    const fresh = parseSchema();
    if (process.env['UPDATE_ONNX_SCHEMA'] === '1') {
      writeFileSync(schemaPath, await render(fresh));
      return; // the module imported above is the old one; the next plain run checks the new file
    }
    expect(JSON.parse(JSON.stringify(onnxSchema))).toEqual(JSON.parse(JSON.stringify(fresh)));
  });

  it('loads with the light build (no parser) and has the types the reader uses', async () => {
    const light = (await import('protobufjs/light.js')).default;
    const root = light.Root.fromJSON(onnxSchema).resolveAll();
    for (const t of ['ModelProto', 'GraphProto', 'TensorProto', 'ValueInfoProto', 'StringStringEntryProto']) {
      expect(root.lookupType(`onnx.${t}`).name).toBe(t);
    }
  });
});
