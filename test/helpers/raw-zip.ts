/**
 * A tiny zip writer for hostile test archives: any entry name, Unix or DOS attributes, symlinks, duplicates,
 * deflated bombs, and declared sizes that lie. Real zip tools refuse to make most of these.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export interface RawEntry {
  name: string;
  data?: Buffer | string;
  /** Unix mode incl. type bits (0o100644 file, 0o120777 symlink, 0o040755 dir); undefined = made on DOS. */
  mode?: number;
  deflate?: boolean;
  /** Overrides the uncompressed size written in the headers. */
  declaredSize?: number;
  /** Overrides the CRC written in the headers. */
  crc?: number;
}

export function rawZip(entries: RawEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '');
    const stored = e.deflate === true ? deflateRawSync(data) : data;
    const name = Buffer.from(e.name, 'utf8');
    const crc = e.crc ?? crc32(data);
    const size = e.declaredSize ?? data.length;
    const method = e.deflate === true ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, stored);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.mode === undefined ? 20 : (3 << 8) | 20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(e.mode === undefined ? 0 : (e.mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += local.length + name.length + stored.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** The hostile corpus every upload path must refuse: name → archive bytes. */
export function hostileCorpus(): Record<string, Buffer> {
  const ok = rawZip([{ name: 'ok.txt', data: 'fine', mode: 0o100644 }]);
  return {
    'zip-slip': rawZip([{ name: '../evil.txt', data: 'x', mode: 0o100644 }]),
    'zip-slip-nested': rawZip([{ name: 'a/../../evil.txt', data: 'x', mode: 0o100644 }]),
    'absolute-path': rawZip([{ name: '/etc/evil.txt', data: 'x', mode: 0o100644 }]),
    'backslash-slip': rawZip([{ name: '..\\evil.txt', data: 'x', mode: 0o100644 }]),
    'symlink-escape-then-write': rawZip([
      { name: 'link', data: '../../../../tmp', mode: 0o120777 },
      { name: 'link/evil.txt', data: 'x', mode: 0o100644 },
    ]),
    'symlink-relative-escape': rawZip([{ name: 'up', data: '../../outside', mode: 0o120777 }]),
    'through-absolute-symlink': rawZip([
      { name: 'etc', data: '/etc', mode: 0o120777 },
      { name: 'etc/evil.txt', data: 'x', mode: 0o100644 },
    ]),
    'duplicate-entries': rawZip([
      { name: 'a.txt', data: 'one', mode: 0o100644 },
      { name: 'a.txt', data: 'two', mode: 0o100644 },
    ]),
    'zip-bomb-ratio': rawZip([
      { name: 'bomb.bin', data: Buffer.alloc(20 * 1024 * 1024), deflate: true, mode: 0o100644 },
    ]),
    'lying-size': rawZip([{ name: 'lie.txt', data: 'much more than declared', declaredSize: 3, mode: 0o100644 }]),
    'crc-mismatch': rawZip([{ name: 'crc.txt', data: 'data', crc: 12345, mode: 0o100644 }]),
    truncated: ok.subarray(0, ok.length - 10),
    'corrupt-bytes': Buffer.concat([ok.subarray(0, 20), Buffer.alloc(30, 0xff), ok.subarray(50)]),
    'not-a-zip': Buffer.from('this is not a zip file at all'),
    'empty-zip': rawZip([]),
  };
}
