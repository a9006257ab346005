/**
 * @module platform/storage/test-zip
 * Test support: a tiny zip writer for archives real tools refuse to make (any name bytes, Unix or DOS attributes,
 * symlinks, duplicates, lying sizes and CRCs, entries sharing data), and the hostile corpus every upload and
 * extraction path must refuse. Not used by the platform itself.
 */
import { crc32, deflateRawSync } from 'node:zlib';
import type { PlatformErrorCode } from '../errors.ts';

/** 2020-01-01 in MS-DOS date format. */
const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1;

export interface TestZipEntry {
  /** The name exactly as written (a Buffer for arbitrary bytes). A trailing `/` makes a directory entry. */
  name: string | Buffer;
  data?: Buffer | string;
  /**
   * Unix mode including the type bits (0o100644 file, 0o100755 executable, 0o040755 directory, 0o120777 symlink);
   * marks the entry as made on Unix. Without it the entry is made on MS-DOS (no Unix attributes).
   */
  mode?: number;
  /** Raw "version made by" (host byte << 8 | version); overrides what `mode` implies. */
  versionMadeBy?: number;
  /** Raw external attributes; overrides what `mode` implies. */
  externalAttributes?: number;
  /** `store` (default), `deflate`, or a raw method number (the data is written as given, even for 8). */
  method?: 'store' | 'deflate' | number;
  /** Uncompressed size written in the headers instead of the real one. */
  declaredSize?: number;
  /** Compressed size written in the headers instead of the real one. */
  declaredCompressedSize?: number;
  /** CRC-32 written in the headers instead of the real one. */
  crc?: number;
  /** General purpose flags (default 0x0800: UTF-8 names). Bit 0 marks the entry encrypted. */
  flags?: number;
  /** Write only a central directory record pointing at the data of entry `sameDataAs` (overlapping-entries bomb). */
  sameDataAs?: number;
}

export interface TestZipOptions {
  /** Entry count written in the end record instead of the real one. */
  declaredEntryCount?: number;
  comment?: string;
}

/** Builds a zip from `entries` in memory. Stored and deflated entries get real CRCs and sizes unless overridden. */
export function buildZip(entries: readonly TestZipEntry[], options: TestZipOptions = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  const records: { offset: number; crc: number; compressed: number; size: number; method: number }[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.isBuffer(e.name) ? e.name : Buffer.from(e.name, 'utf8');
    const flags = e.flags ?? 0x0800;
    let record = e.sameDataAs === undefined ? undefined : records[e.sameDataAs];
    if (record === undefined) {
      const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? '');
      const method = e.method === 'deflate' ? 8 : e.method === 'store' || e.method === undefined ? 0 : e.method;
      const payload = e.method === 'deflate' ? deflateRawSync(data, { level: 9 }) : data;
      record = {
        offset,
        crc: e.crc ?? crc32(data),
        compressed: e.declaredCompressedSize ?? payload.length,
        size: e.declaredSize ?? data.length,
        method,
      };
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4);
      local.writeUInt16LE(flags, 6);
      local.writeUInt16LE(method, 8);
      local.writeUInt16LE(0, 10); // time
      local.writeUInt16LE(DOS_DATE, 12); // 2020-01-01
      local.writeUInt32LE(record.crc >>> 0, 14);
      local.writeUInt32LE(record.compressed >>> 0, 18);
      local.writeUInt32LE(record.size >>> 0, 22);
      local.writeUInt16LE(name.length, 26);
      locals.push(local, name, payload);
      offset += local.length + name.length + payload.length;
    }
    records.push(record);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(e.versionMadeBy ?? (e.mode === undefined ? 20 : (3 << 8) | 20), 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(record.method, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(record.crc >>> 0, 16);
    central.writeUInt32LE(record.compressed >>> 0, 20);
    central.writeUInt32LE(record.size >>> 0, 24);
    central.writeUInt16LE(name.length, 28);
    const dosDir = name.at(-1) === 0x2f ? 0x10 : 0;
    central.writeUInt32LE(
      (e.externalAttributes ?? (e.mode === undefined ? dosDir : (e.mode << 16) | dosDir)) >>> 0,
      38,
    );
    central.writeUInt32LE(record.offset, 42);
    centrals.push(central, name);
  }
  const cd = Buffer.concat(centrals);
  const comment = Buffer.from(options.comment ?? '', 'utf8');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const count = options.declaredEntryCount ?? entries.length;
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  end.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...locals, cd, end, comment]);
}

/** A regular Unix file entry (default mode 0644). */
export function fileEntry(name: string, data: Buffer | string, mode = 0o644): TestZipEntry {
  return { name, data, mode: 0o100000 | mode };
}

/** A Unix directory entry (the name gets its trailing `/`). */
export function dirEntry(name: string, mode = 0o755): TestZipEntry {
  return { name: name.endsWith('/') ? name : `${name}/`, mode: 0o040000 | mode };
}

/** A Unix symlink entry: the data is the target. */
export function symlinkEntry(name: string, target: string): TestZipEntry {
  return { name, data: target, mode: 0o120777 };
}

export interface HostileZip {
  bytes: Buffer;
  /** The PlatformError code inspectZip and extractZip refuse it with (default limits). */
  code: Extract<PlatformErrorCode, 'ERR_ZIP_INVALID' | 'ERR_ZIP_UNSAFE' | 'ERR_ZIP_TOO_LARGE'>;
}

/** The hostile corpus every upload and extraction path must refuse: name → archive and expected code. */
export function hostileZips(): Record<string, HostileZip> {
  const ok = buildZip([fileEntry('ok.txt', 'fine')]);
  const unsafe = (entries: TestZipEntry[]): HostileZip => ({ bytes: buildZip(entries), code: 'ERR_ZIP_UNSAFE' });
  const invalid = (bytes: Buffer): HostileZip => ({ bytes, code: 'ERR_ZIP_INVALID' });
  const evil = (name: string | Buffer): TestZipEntry => ({ name, data: 'x', mode: 0o100644 });
  return {
    'zip-slip': unsafe([evil('../evil.txt')]),
    'zip-slip-nested': unsafe([evil('a/../../evil.txt')]),
    'zip-slip-directory': unsafe([dirEntry('../evil')]),
    'absolute-path': unsafe([evil('/etc/evil.txt')]),
    'drive-letter': unsafe([evil('C:/evil.txt')]),
    'backslash-slip': unsafe([evil('..\\evil.txt')]),
    'backslash-separator': unsafe([evil('dir\\evil.txt')]),
    'nul-in-name': unsafe([evil(Buffer.from('evil.txt\0.png', 'latin1'))]),
    'symlink-escape-then-write': unsafe([symlinkEntry('a', '../../etc'), fileEntry('a/passwd', 'x')]),
    'symlink-relative-escape': unsafe([symlinkEntry('up', '../../outside')]),
    'symlink-nested-escape': unsafe([symlinkEntry('a/b/up', '../../../outside')]),
    // Lexically inside, but deep/er/root resolves to the archive root, so root/.. is its parent.
    'symlink-chain-escape': unsafe([symlinkEntry('deep/er/root', '../..'), symlinkEntry('x', 'deep/er/root/..')]),
    // The same, with the link it goes through defined later in the archive.
    'symlink-forward-escape': unsafe([symlinkEntry('x', 'here/..'), symlinkEntry('here', '.')]),
    'through-absolute-symlink': unsafe([symlinkEntry('etc', '/etc'), fileEntry('etc/evil.txt', 'x')]),
    'duplicate-entries': unsafe([fileEntry('a.txt', 'one'), fileEntry('a.txt', 'two')]),
    'duplicate-after-normalising': unsafe([fileEntry('a/b.txt', 'one'), fileEntry('a/./b.txt', 'two')]),
    'file-and-directory': unsafe([fileEntry('a', 'file'), fileEntry('a/b', 'below a file')]),
    'zip-bomb-ratio': {
      bytes: buildZip([{ name: 'bomb.bin', data: Buffer.alloc(8 * 1024 * 1024), method: 'deflate', mode: 0o100644 }]),
      code: 'ERR_ZIP_TOO_LARGE',
    },
    'too-many-entries': {
      bytes: buildZip([fileEntry('a.txt', 'x')], { declaredEntryCount: 50_001 }),
      code: 'ERR_ZIP_TOO_LARGE',
    },
    'lying-size': invalid(buildZip([{ ...fileEntry('lie.txt', 'much more than declared'), declaredSize: 3 }])),
    'lying-deflated-size': invalid(
      buildZip([{ ...fileEntry('lie.bin', Buffer.alloc(100_000, 7)), method: 'deflate', declaredSize: 10 }]),
    ),
    'lying-compressed-size': invalid(
      buildZip([{ ...fileEntry('lie.txt', 'data'), method: 'deflate', declaredCompressedSize: 1_000_000 }]),
    ),
    'crc-mismatch': invalid(buildZip([{ ...fileEntry('crc.txt', 'data'), crc: 12345 }])),
    'crc-mismatch-symlink': invalid(buildZip([{ ...symlinkEntry('l', 'target'), crc: 12345 }])),
    'encrypted-entry': invalid(buildZip([{ ...fileEntry('secret.txt', 'secret'), method: 'deflate', flags: 0x0801 }])),
    'unsupported-method': invalid(buildZip([{ ...fileEntry('bz.txt', 'data'), method: 12 }])),
    truncated: invalid(ok.subarray(0, ok.length - 10)),
    'corrupt-bytes': invalid(Buffer.concat([ok.subarray(0, 20), Buffer.alloc(30, 0xff), ok.subarray(50)])),
    // Method 8 with bytes that are not a deflate stream.
    'corrupt-deflate': invalid(buildZip([{ ...fileEntry('bad.bin', Buffer.alloc(64, 0xff)), method: 8 }])),
    'not-a-zip': invalid(Buffer.from('this is not a zip file at all')),
    'zero-bytes': invalid(Buffer.alloc(0)),
    'empty-zip': invalid(buildZip([])),
  };
}
