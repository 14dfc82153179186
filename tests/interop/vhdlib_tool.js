// Drives the npm package vhd-lib@0.7.2 for the interop tests and the merge
// benchmark: chain (turn a dynamic VHD into a differencing child of a
// parent), write (data at a sector offset into a VHD), merge (child into
// parent).  Usage: node vhdlib_tool.js MODULE_DIR chain PARENT CHILD
//                  node vhdlib_tool.js MODULE_DIR write VHD OFFSET_BYTES DATAFILE
//                  node vhdlib_tool.js MODULE_DIR merge PARENT CHILD
//                  node vhdlib_tool.js MODULE_DIR size VHD   (the size vhd-lib reads)
'use strict';
const fs = require('fs');
const path = require('path');
const lib = require(path.resolve(process.argv[2], 'vhd-lib'));
const Vhd = lib.default;

// The file-system handler interface vhd-lib expects (subset it uses).
const fdOf = (f, flags) => (typeof f === 'string' ? fs.openSync(f, flags) : f.fd);
const handler = {
  async openFile(p, flags) { return { fd: fs.openSync(p, flags), path: p }; },
  async closeFile(f) { fs.closeSync(f.fd); },
  async read(f, buffer, position) {
    const fd = fdOf(f, 'r');
    const n = fs.readSync(fd, buffer, 0, buffer.length, position);
    if (typeof f === 'string') fs.closeSync(fd);
    return { bytesRead: n, buffer };
  },
  async write(f, data, offset) {
    const fd = fdOf(f, 'r+');
    fs.writeSync(fd, data, 0, data.length, offset);
    if (typeof f === 'string') fs.closeSync(fd);
  },
  async getSize(f) {
    const fd = fdOf(f, 'r');
    const size = fs.fstatSync(fd).size;
    if (typeof f === 'string') fs.closeSync(fd);
    return size;
  },
};

async function main() {
  const [cmd, a, b, c] = process.argv.slice(3);
  if (cmd === 'chain') {
    await lib.chainVhd(handler, a, handler, b, true);
  } else if (cmd === 'write') {
    const vhd = new Vhd(handler, a);
    await vhd.readHeaderAndFooter();
    await vhd.readBlockAllocationTable();
    const data = fs.readFileSync(c);
    await vhd.writeData(Number(b) / 512, data);
  } else if (cmd === 'size') {
    const vhd = new Vhd(handler, a);
    await vhd.readHeaderAndFooter();
    console.log(String(vhd.footer.currentSize));
  } else if (cmd === 'merge') {
    const t0 = process.hrtime.bigint();
    await lib.mergeVhd(handler, a, handler, b);
    const t1 = process.hrtime.bigint();
    console.log(`merge_seconds ${Number(t1 - t0) / 1e9}`);
  } else {
    throw new Error('unknown command ' + cmd);
  }
}
main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
