// `node --import ./bin/raw-loader-register.mjs …`: loads WGSL `?raw` imports as text (see raw-loader.mjs).
import { register } from 'node:module';

register('./raw-loader.mjs', import.meta.url);
