import { gatewayDocument } from '../scripts/lib/client-schema';
import { gzipSync } from 'node:zlib';
const d = JSON.stringify(await gatewayDocument());
console.log(d.length, gzipSync(d).length);
