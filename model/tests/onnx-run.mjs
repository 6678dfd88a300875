// Runs an ONNX model on onnxruntime-node (the reference runtime) for model/tests/test_export.py:
//   node model/tests/onnx-run.mjs MODEL.onnx INPUT.f32 BATCH LEADS SAMPLES
// INPUT.f32 holds BATCH x LEADS x SAMPLES little-endian float32; prints {output name: [numbers]} as JSON.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');

const [modelPath, inputPath, batch, leads, samples] = process.argv.slice(2);
const bytes = readFileSync(inputPath);
const data = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1 });
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [+batch, +leads, +samples]) };
const results = await session.run(feeds);
const out = {};
for (const name of session.outputNames) out[name] = Array.from(results[name].data);
process.stdout.write(JSON.stringify(out));
