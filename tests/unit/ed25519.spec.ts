import {
  ed25519_verify, ED25519_OK, E_BAD_SIGNATURE, E_BAD_PUBLIC_KEY, E_BAD_S, E_BAD_R,
} from "../../kernel/ed25519";

@external("testhooks", "allocation_count")
declare function allocation_count(): i32;

// Where the data comes from
//
// RFC_VECTORS: RFC 8032 section 7.1, TEST 1, 2, 3, 1024 and SHA(abc),
// transcribed, then checked with Node: the public key derived from each
// secret key and the signature Node makes are byte for byte the ones below.
//
// FIXED_KEY, FIXED_SIGNATURES, KEYED_SIGNATURES: made by Node's crypto (OpenSSL)
// with a throwaway script, pasted here. Messages are prefixes of the pattern
// patternByte(i + offset) below; seeds are formulas too:
//
//   const PKCS8 = Buffer.from("302e020100300506032b657004220420", "hex");
//   const key = (seed) => crypto.createPrivateKey(
//     { key: Buffer.concat([PKCS8, seed]), format: "der", type: "pkcs8" });
//   const pattern = (n, offset) => Buffer.from(Array.from({ length: n },
//     (_, i) => ((i + offset) * 31 + ((i + offset) >> 8) * 7 + 3) & 0xff));
//   // FIXED_KEY: the seed byte i = (17 i + 5) mod 256; one signature per size
//   for (const n of [0, 1, 255, 256, 257, 4096, 100000])
//     crypto.sign(null, pattern(n, 0), key(fixedSeed));
//   // KEYED_SIGNATURES[j], j < 24: seed byte i = (29 i + 101 j + 11) mod 256,
//   // message pattern((37 j) % 300 + j, 1000 j)
//
// Which single-bit changes to R and A still decode to a curve point (and so
// must give E_BAD_SIGNATURE rather than E_BAD_R / E_BAD_PUBLIC_KEY) was
// worked out with an independent big-integer decoder (RFC 8032 5.1.3).

function patternByte(i: usize): u8 {
  return <u8>((i * 31 + (i >> 8) * 7 + 3) & 0xff);
}

function pattern(len: usize, offset: usize = 0): usize {
  let ptr = heap.alloc(max<usize>(len, 1));
  for (let i: usize = 0; i < len; i++) store<u8>(ptr + i, patternByte(i + offset));
  return ptr;
}

function nibble(c: i32): u8 {
  return <u8>(c <= 0x39 ? c - 0x30 : c - 0x61 + 10);
}

// A heap block holding the bytes spelled by `hex` (never freed: specs are
// short-lived).
function bytes(hex: string): usize {
  let len = hex.length >> 1;
  let ptr = heap.alloc(max<usize>(<usize>len, 1));
  for (let i = 0; i < len; i++) {
    store<u8>(ptr + <usize>i, (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1)));
  }
  return ptr;
}

function copyOf(ptr: usize, len: usize): usize {
  let copy = heap.alloc(max<usize>(len, 1));
  memory.copy(copy, ptr, len);
  return copy;
}

function flipBit(ptr: usize, bit: i32): void {
  let at = ptr + <usize>(bit >> 3);
  let mask: i32 = 1 << (bit & 7);
  store<u8>(at, load<u8>(at) ^ <u8>mask);
}

// dst[0..32) += src[0..32), little-endian (the carry out is dropped).
function add256(dst: usize, src: usize): void {
  let carry: u32 = 0;
  for (let i: usize = 0; i < 32; i++) {
    let sum = <u32>load<u8>(dst + i) + <u32>load<u8>(src + i) + carry;
    store<u8>(dst + i, <u8>sum);
    carry = sum >> 8;
  }
}

// ---------------------------------------------------------------------------

class Vector {
  constructor(
    public name: string,
    public publicKey: string,
    public message: string,
    public signature: string,
  ) {}
}

const RFC_VECTORS: Vector[] = [
  new Vector(
    "TEST 1",
    "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    "",
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
  ),
  new Vector(
    "TEST 2",
    "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    "72",
    "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
  ),
  new Vector(
    "TEST 3",
    "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    "af82",
    "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
  ),
  new Vector(
    "TEST 1024",
    "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
    "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1" +
    "e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d" +
    "658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a" +
    "7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e" +
    "06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10" +
    "3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1" +
    "85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d" +
    "502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270" +
    "88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b" +
    "eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba" +
    "b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b" +
    "e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7" +
    "51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d" +
    "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df" +
    "f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7" +
    "984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4" +
    "88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09" +
    "43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f" +
    "b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161" +
    "0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d" +
    "b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca" +
    "c60c905c15fc910840b94c00a0b9d0",
    "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03",
  ),
  new Vector(
    "TEST SHA(abc)",
    "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd" +
    "454d4423643ce80e2a9ac94fa54ca49f",
    "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704",
  ),
];

function verifyRfc(index: i32): i32 {
  let v = RFC_VECTORS[index];
  return ed25519_verify(bytes(v.signature), bytes(v.message), <usize>(v.message.length >> 1), bytes(v.publicKey));
}

describe("ed25519_verify: RFC 8032 section 7.1 test vectors", () => {
  it("accepts TEST 1 (empty message)", () => {
    expect(RFC_VECTORS[0].name).toBe("TEST 1");
    expect(verifyRfc(0)).toBe(ED25519_OK);
  });

  it("accepts TEST 2 (1 byte)", () => {
    expect(verifyRfc(1)).toBe(ED25519_OK);
  });

  it("accepts TEST 3 (2 bytes)", () => {
    expect(verifyRfc(2)).toBe(ED25519_OK);
  });

  it("accepts TEST 1024 (1023 bytes)", () => {
    expect(RFC_VECTORS[3].message.length).toBe(2 * 1023);
    expect(verifyRfc(3)).toBe(ED25519_OK);
  });

  it("accepts TEST SHA(abc) (64 bytes)", () => {
    expect(verifyRfc(4)).toBe(ED25519_OK);
  });
});

// ---------------------------------------------------------------------------

const FIXED_KEY = "82546dd227a0710242aa28853d9cee28c57b2765792f93fe87dbd89631d6e1c1";

const FIXED_SIZES: usize[] = [0, 1, 255, 256, 257, 4096, 100000];
const FIXED_SIGNATURES: string[] = [
  "b7eb0bfd115c2b552ce954ad97fb4adcd02296e97d4d48c68e81605df501f6cec10a553ae949eec21db815e6540588cbaa4e0c53951f2cfe4b726b3e751e2105", // 0 bytes
  "09b7b281e94c2bb76742baa4777f6ebb08054479dc1b095658f650387e103abaf0f7846db707fc6c41fb7513ab767c1658097aca75598d3a7c9fef8cbf38570e", // 1 bytes
  "971ae60d110db0ca9a07842a8a42a36b60270d07a0697115cbfe0cc411931fcc188c379ab4b07775ded27ccb7c67c2fea1c71975202c3038a47c03db9003ff0b", // 255 bytes
  "c25921577677d6e05ff80c383c244b91467e31e66d9b20444273d5e8439bac95c0cb4a1cb9527603661d15a8405c158e88fa5a3c2aa2de6c96462072d9479704", // 256 bytes
  "9500612729d9190ad225dfa4dfe063698f8d41b0b6a1c71b0058858b331de28508ba52f95fa93ad6ae407bd55be1b20ecf8e969288415d50028db53f65575703", // 257 bytes
  "57c348c102475c631e75a38acd776095544d6edd089b289618c47ffbe994a56b6d5f003daf7066be4ededf4b157e9896336964fed2b65a0cfc1cdf780b84da07", // 4096 bytes
  "5d3461a863876859bba21a6a797812f3103b54a54fff5ba5880c3a04eccebd44dd3de16d2de815f6cea0362173c51453f2bbd6612a2d79e3f741da349813560f", // 100000 bytes
];

function verifyFixed(index: i32): i32 {
  let len = FIXED_SIZES[index];
  return ed25519_verify(bytes(FIXED_SIGNATURES[index]), pattern(len), len, bytes(FIXED_KEY));
}

class KeyedSignature {
  constructor(public messageLength: usize, public publicKey: string, public signature: string) {}
}

const KEYED_SIGNATURES: KeyedSignature[] = [
  new KeyedSignature(0, "5c1a90a368846af0a9ab3b1013499f0c445e3a838f168a1189cceb5ecd5a4df7",
    "adc7c060661510d8ac6fa9e1fd7b54d81bb56b9a7f1f7a9f8a79e580e3ad472eb60143de8babf2d40ebe939a9d818a7297a6bbde02c7b9dd096a79076c13a10e"),
  new KeyedSignature(38, "19c5a40786381046d53727a4eec62104be55f93bd254acf1d17fcf122c1e093f",
    "f5f683fe4c4c975c3728b7dfa5f1da3c8b335cc8337d468e18add16a77e68967cf096e9ccc23f2216b470f5bbc9b43fbde7745e2ce0569335af7b8344058cc06"),
  new KeyedSignature(76, "58d5b59d265c0d0f6b213065af25699a1f7e67e33d843dec65c7728de8101d5d",
    "6b282a1e3e89e3c3b00e1246ef049c9bb2799351c48d98c97978c2e472b069461d7cb45d6f8b788283a632a4b6391b80da4713c962c20b7574512ef65253c205"),
  new KeyedSignature(114, "a3a26d5927d94c8329eb4de334bdb6ababef680d5f0784c71ba0b9f1efe87627",
    "f84c3f91ea0e42bf140b098003e9e1ed14c21a9968a657014933567889d95cfe7680fb711ee9b20274b631bf135f167e44bd27640701f2f1a1b243f998957101"),
  new KeyedSignature(152, "8afa64094378e2f582906ecf3f5f4797edc75ddcefd70768d29221f14789941d",
    "05a20256dd89c20a5f0af503c2ff85fd18bbb3d2240be572163dbe44e0033e5451f4c22f5da02a69bf7590f1b1ca5d18f9b8eeae96c5c747878c3d56685f260a"),
  new KeyedSignature(190, "baeeb76a8ba86b8a2194e55dc4919f9eceadeaa6636df3d6d98cf8ef1ef81b4f",
    "8ca64b146928cb8397189cbd1bf11e15da5b6e42f916b3d6d37457f0b4b03f771690b5358fc2f9e73c1c0b5d70479e33ef70590ded3fbeda26a98c804bcbe803"),
  new KeyedSignature(228, "fe651a7d95e34990a22a8f4c2bc41e7aeda621290fee13bea2788dd06e217037",
    "3d233d47ee06be9f113d512c691a971986271400a1402ff5616937361c0c48daba8edc4d9ce0dc95e879a65738a3ba5590e23875433301ae7e5ec2a9b575b70f"),
  new KeyedSignature(266, "69c53193327ae73506c50117ece14bf6c1f6102829fe4da7fbadddd9dd2ceea8",
    "546654ed57d518f690fb47fce11f18f403c85afccdac92faaa831a8ed08a6afa6f59778a3ddf4881abfe9e1818435a59fd186590674c8e686bdf75250adb930e"),
  new KeyedSignature(304, "d948938f3e973ba1f6517fdde1afc98633cdac4560dfdf84541bd62f20b1f027",
    "1e68ad7c56d6808efc9708b75f8619c70e52e66185859df24c98689a38b6a2407e599f0024caac1f7ff3b73ebebdfd2bc1d1fc6ebd7a758bdb19a3b6155e750b"),
  new KeyedSignature(42, "523394ec046bb73ad97d5fd1b6ae709cad588b82fee991c9ead4bab79787b392",
    "da902e751df1bdfe7f2941da15c87fa8bfbd17effd7274b57dcbf69e3c095248d27ed1b18f13708838ee563720d24f6c18808b5d10e71c3880763b154f09010b"),
  new KeyedSignature(80, "7d51eeb8263313ffa2202e3c39f6fd1e375152e26a89662afdef61e4ce8d1e86",
    "cecaa1748023ae42b19629d219ea554bb162915e6f97ca9f8f33645fc60bea74c3c31f294d987a78c36b27acffd08a064540580080158fdb4c0562b7fcc7930c"),
  new KeyedSignature(118, "335d514e67307cf0d74357eea19ac53d8371065ba2aa9b3265cb1f8de3b08baa",
    "a3c3d2c41068fc1f3da2420469ce70e6f0442b4b403fd478335375215bce4da8aa537d6ed0a0b370b50cfc65b9f488701bc33776ccb248af96b94fc66b266202"),
  new KeyedSignature(156, "f3e947d1dd285516f1150aee3d0673397fade5dde72f672df458c1a2ca7db573",
    "d5d8cf9cf3f788c6e84249f129f9c21b2b387cf243c44ca18f5138de815d8674990751f7ccbd12b57c0530f569def2ce3bd8731ca516ed9f8a84bf6c6ea85306"),
  new KeyedSignature(194, "bc762aa6d262a04e6b3fd8fae4265e3d7b202f2afc3db2c7afb57e2c86329a4e",
    "021459d605421fb6198b7d9d252ddd619389cd6b64c00536d9cb28e5df65930a1332c42fcb3bca1be2942d5e4b188778404d4061356dcf9d8f418ee513d16d0c"),
  new KeyedSignature(232, "cd68f252f1bd0e43fb7724f36f829586c05a503ed50b664483d0fec4b914991d",
    "0a63984c1290084a4ae64dfff7fe5fdeb0027ccdee7ace17085fafbdc3bee346190ce2f3aa4f7cccd119a179356878831f313f2bc48334556f16be8be9e20a0f"),
  new KeyedSignature(270, "763f56d734f745b896e82dfb5bfe5389bfc64175db8738c5e292c2f888aaba41",
    "017a33acf31e06d01580db28666e985e4e68bdffbdcdaa7d43f324b638a6821abdcdec9558a1f73de33193528ef620dc6a7ed0773503eb5d42cd7274339ec707"),
  new KeyedSignature(308, "f5942221555ad6f44c8cef00257871ec7d6ad2258e92b034c9c8a991f62cf037",
    "14f81b3e72e7fd7c96bb5adcd98403d44b746b369500254712187616c53d937b5fae2c40d55392fadb7cf5f9318fe7ac057f0d7983b537da85732a6abe11c00b"),
  new KeyedSignature(46, "4486cd5f79293d5ce9ac4ba98767988cd5e44eb2a125697a9b0e22f107f66c3e",
    "7926f3cde9580e2197dc428dc8408eb7c8ce8d60148022b3a676dc0ee1fe8685301b28c06de5d74b20a12844f4cb2b1b45712f7f1a0ebb2fd8f041e98cb70d0c"),
  new KeyedSignature(84, "e47841ebb8491213938b88f0480ebeb410e3e13445a6f714b08f1ca5db3c4246",
    "f3bd3a3a12d1a9cf2c4187f6c3a6770a139ff71a08ec5c2957b2f885fbfc93aaf1ef2ef03033aa4cc2d4e8c1bfc499a5ecefb776bbec5f7154fbc2a38b13110d"),
  new KeyedSignature(122, "611acc7c4bd445ec436c478638df62a3f8b7183028d87205f033aea36caa314d",
    "5e91e0ce0383a76be5f4573bdac22d59ad12a8ddc63111a81bab14563640adc67cd0dcb973e9655da0b47f4d4c735fda40aa96594885e1205826de7014ed4302"),
  new KeyedSignature(160, "7a4b7c1c03989ec39132148feca3359045032c35602f315d1e31514419155f68",
    "a01ff59384e616d4708e9c6e91b6044312c59aff5e6cc417b578e28fdebdbbfeeea93d52c8a48ce8cda899183a4141fe160f78444987ec214f8ad38d3c4a040a"),
  new KeyedSignature(198, "404238a7abf4488885f81857fc80674c3d5322617ba2cddf04a60b2c87dd8412",
    "7847633ae7f4540387588ffdf4da83c00f97870a7e34b796bb13420f27d17dc81e93dd16308e4b5fd04e6bcca2aa717a5a59d1a666e92e32f2643400744f3207"),
  new KeyedSignature(236, "b4bfad7fbe68bd4cb6a5f49cb67ca98a93cc145b7017da0904600788cc585f7f",
    "6f26d4cb44a5eeb9ced4e3b4630258049fd08e113b330ccd90ce253fc1b21e7ffe42d8f1b628f541649b34c18514b4702d00a8cd6ba9507a34e77133be49bf08"),
  new KeyedSignature(274, "464d8045079960df96bec5cbb341f1bc7e81c08eaf31bf93af76e8281261cff9",
    "bfcd4bfb5ac43dc4f010a1bf6cb2da15f775a4a1f62c3a10fb4f8b3a0a604f8651d4e370cd2792c21ef0cce654a982f9c098ebea047d11794acfbe817e982f07"),
];

describe("ed25519_verify: signatures made by Node", () => {
  it("accepts an empty message", () => {
    expect(verifyFixed(0)).toBe(ED25519_OK);
  });

  it("accepts a 1-byte message", () => {
    expect(verifyFixed(1)).toBe(ED25519_OK);
  });

  it("accepts a 255-byte message", () => {
    expect(verifyFixed(2)).toBe(ED25519_OK);
  });

  it("accepts a 256-byte message", () => {
    expect(verifyFixed(3)).toBe(ED25519_OK);
  });

  it("accepts a 257-byte message", () => {
    expect(verifyFixed(4)).toBe(ED25519_OK);
  });

  it("accepts a 4096-byte message", () => {
    expect(verifyFixed(5)).toBe(ED25519_OK);
  });

  it("accepts a 100000-byte message", () => {
    expect(FIXED_SIZES[6]).toBe(100000);
    expect(verifyFixed(6)).toBe(ED25519_OK);
  });

  it("accepts 24 more keys, each with its own message", () => {
    expect(KEYED_SIGNATURES.length).toBe(24);
    let firstWrong = -1;
    for (let j = 0; j < KEYED_SIGNATURES.length; j++) {
      let k = KEYED_SIGNATURES[j];
      let message = pattern(k.messageLength, 1000 * <usize>j);
      let result = ed25519_verify(bytes(k.signature), message, k.messageLength, bytes(k.publicKey));
      if (result != ED25519_OK && firstWrong < 0) firstWrong = j;
    }
    expect(firstWrong).toBe(-1, "the first key whose signature is refused");
  });
});

// ---------------------------------------------------------------------------
// Rejections. Unless a test says otherwise they start from the valid
// signature of the 257-byte message under FIXED_KEY and change one thing.

const BASE_INDEX = 4;
const BASE_LENGTH: usize = 257;

function baseSignature(): usize { return bytes(FIXED_SIGNATURES[BASE_INDEX]); }
function baseMessage(): usize { return pattern(BASE_LENGTH); }
function baseKey(): usize { return bytes(FIXED_KEY); }

// Little-endian encodings (y in the low 255 bits, the sign of x in bit 255).
const ENC_P = "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";                 // y = p, the non-canonical 0
const ENC_P_PLUS_1 = "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f";         // y = p + 1, the non-canonical 1
const ENC_ONE_ODD = "0100000000000000000000000000000000000000000000000000000000000080";     // y = 1, x odd: but x = 0
const ENC_MINUS_ONE_ODD = "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"; // y = -1, x odd: but x = 0
const ENC_TWO = "0200000000000000000000000000000000000000000000000000000000000000";             // y = 2: (y^2 - 1)/(d y^2 + 1) is not a square
const L_BYTES = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";               // L, the group order
const L_MINUS_1 = "ecd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

// Bits of R and of the key flipped below, and whether the result still
// decodes to a curve point.
const R_BITS: i32[] = [0, 1, 7, 8, 100, 200, 254, 255];
const R_STILL_DECODES: bool[] = [true, false, true, false, true, false, true, true];
const KEY_BITS: i32[] = [0, 1, 9, 77, 128, 200, 254, 255];
const KEY_STILL_DECODES: bool[] = [true, true, false, false, false, true, false, true];

// Made with FIXED_KEY's secret scalar a by a throwaway big-integer script
// (RFC 8032 arithmetic, checked against Node), over the base message, with
// a nonce r that is not RFC 8032's: S = r + k a mod L, k = SHA-512(R' || A || M).
//   ARBITRARY_NONCE:   R' = [r]B, an honest signature.
//   CHECK_IS_MINUS_R:  R' = -[r]B, so [S]B - [k]A = [r]B has R's y but not its x.
//   CHECK_DIFFERS_IN_Y: R' = -[r]B + (0, -1), so the check point has R's x but
//                      not its y. (A cofactored verifier would accept this one;
//                      RFC 8032's cofactorless check, and Node, refuse it.)
// Node accepts the first and refuses the other two.
const ARBITRARY_NONCE = "b21b99b03c76735d735bde3462c875293c2f4dd14010d5deadad877e3439a94655991543230cc2a9ddcb2c0a8ddf27878a67d7ebcb2d5bd0e78ecf6d885c020d";
const CHECK_IS_MINUS_R = "b21b99b03c76735d735bde3462c875293c2f4dd14010d5deadad877e3439a9c6ea0bf43e9cf34a1711c10027404e8d392d57687dd920bfabefc12bae08abfa08";
const CHECK_DIFFERS_IN_Y = "3be4664fc3898ca28ca421cb9d378ad6c3d0b22ebfef2a2152527881cbc65639155e51ad42e6122b4605902b53a3b444c315745140e6dce9edcc361e3f35000a";

describe("ed25519_verify: rejections", () => {
  it("accepts the unchanged base case", () => {
    expect(ed25519_verify(baseSignature(), baseMessage(), BASE_LENGTH, baseKey())).toBe(ED25519_OK);
  });

  it("rejects a flipped bit in R", () => {
    for (let i = 0; i < R_BITS.length; i++) {
      let sig = baseSignature();
      flipBit(sig, R_BITS[i]);
      let expected = R_STILL_DECODES[i] ? E_BAD_SIGNATURE : E_BAD_R;
      expect(ed25519_verify(sig, baseMessage(), BASE_LENGTH, baseKey())).toBe(expected, "R bit " + R_BITS[i].toString());
    }
  });

  it("rejects a flipped bit in S: a wrong S, or one >= L", () => {
    let low = baseSignature();
    flipBit(low, 256 + 0);
    expect(ed25519_verify(low, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_SIGNATURE);
    let middle = baseSignature();
    flipBit(middle, 256 + 100);
    expect(ed25519_verify(middle, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_SIGNATURE);
    let high = baseSignature();
    flipBit(high, 256 + 253); // S < L < 2^253, so this sets bit 253
    expect(ed25519_verify(high, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_S);
    let top = baseSignature();
    flipBit(top, 256 + 255);
    expect(ed25519_verify(top, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_S);
  });

  it("rejects S + L (the same point equation, non-canonical S) with E_BAD_S", () => {
    let sig = baseSignature();
    add256(sig + 32, bytes(L_BYTES));
    expect(ed25519_verify(sig, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_S);
  });

  it("draws the S bound exactly at L", () => {
    let atL = baseSignature();
    memory.copy(atL + 32, bytes(L_BYTES), 32);
    expect(ed25519_verify(atL, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_S);
    let belowL = baseSignature();
    memory.copy(belowL + 32, bytes(L_MINUS_1), 32);
    expect(ed25519_verify(belowL, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_SIGNATURE);
  });

  it("rejects a flipped bit in the message, and a message one byte short", () => {
    let bits: i32[] = [0, 7, 1000, <i32>BASE_LENGTH * 8 - 1];
    for (let i = 0; i < bits.length; i++) {
      let message = baseMessage();
      flipBit(message, bits[i]);
      expect(ed25519_verify(baseSignature(), message, BASE_LENGTH, baseKey())).toBe(E_BAD_SIGNATURE, "message bit " + bits[i].toString());
    }
    expect(ed25519_verify(baseSignature(), baseMessage(), BASE_LENGTH - 1, baseKey())).toBe(E_BAD_SIGNATURE);
  });

  it("rejects a flipped bit in the public key", () => {
    for (let i = 0; i < KEY_BITS.length; i++) {
      let key = baseKey();
      flipBit(key, KEY_BITS[i]);
      let expected = KEY_STILL_DECODES[i] ? E_BAD_SIGNATURE : E_BAD_PUBLIC_KEY;
      expect(ed25519_verify(baseSignature(), baseMessage(), BASE_LENGTH, key)).toBe(expected, "key bit " + KEY_BITS[i].toString());
    }
  });

  it("rejects a public key that is not on the curve", () => {
    expect(ed25519_verify(baseSignature(), baseMessage(), BASE_LENGTH, bytes(ENC_TWO))).toBe(E_BAD_PUBLIC_KEY);
  });

  it("rejects non-canonical public keys (y >= p) even where y mod p is a point", () => {
    expect(ed25519_verify(baseSignature(), baseMessage(), BASE_LENGTH, bytes(ENC_P))).toBe(E_BAD_PUBLIC_KEY);
    expect(ed25519_verify(baseSignature(), baseMessage(), BASE_LENGTH, bytes(ENC_P_PLUS_1))).toBe(E_BAD_PUBLIC_KEY);
  });

  it("rejects a public key with x = 0 and the sign bit set", () => {
    expect(ed25519_verify(baseSignature(), baseMessage(), BASE_LENGTH, bytes(ENC_ONE_ODD))).toBe(E_BAD_PUBLIC_KEY);
    expect(ed25519_verify(baseSignature(), baseMessage(), BASE_LENGTH, bytes(ENC_MINUS_ONE_ODD))).toBe(E_BAD_PUBLIC_KEY);
  });

  it("rejects an R that is not on the curve, or not canonical", () => {
    let offCurve = baseSignature();
    memory.copy(offCurve, bytes(ENC_TWO), 32);
    expect(ed25519_verify(offCurve, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_R);
    let nonCanonical = baseSignature();
    memory.copy(nonCanonical, bytes(ENC_P_PLUS_1), 32);
    expect(ed25519_verify(nonCanonical, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_R);
    let zeroOdd = baseSignature();
    memory.copy(zeroOdd, bytes(ENC_ONE_ODD), 32);
    expect(ed25519_verify(zeroOdd, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_R);
  });

  it("accepts a signature whose nonce was not derived as RFC 8032 derives it", () => {
    expect(ed25519_verify(bytes(ARBITRARY_NONCE), baseMessage(), BASE_LENGTH, baseKey())).toBe(ED25519_OK);
  });

  it("compares both coordinates of [S]B - [k]A with R", () => {
    expect(ed25519_verify(bytes(CHECK_IS_MINUS_R), baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_SIGNATURE);
    expect(ed25519_verify(bytes(CHECK_DIFFERS_IN_Y), baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_SIGNATURE);
  });

  it("rejects an all-zero signature (R = (sqrt(-1), 0) decodes; the equation fails)", () => {
    let zero = heap.alloc(64);
    memory.fill(zero, 0, 64);
    expect(ed25519_verify(zero, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_SIGNATURE);
  });

  it("rejects a valid signature checked against another key", () => {
    let other = bytes(KEYED_SIGNATURES[0].publicKey);
    expect(ed25519_verify(baseSignature(), baseMessage(), BASE_LENGTH, other)).toBe(E_BAD_SIGNATURE);
  });

  it("reports the public key first, then R, then S", () => {
    let badS = baseSignature();
    flipBit(badS, 256 + 255);
    expect(ed25519_verify(badS, baseMessage(), BASE_LENGTH, bytes(ENC_TWO))).toBe(E_BAD_PUBLIC_KEY);
    let badRS = copyOf(badS, 64);
    memory.copy(badRS, bytes(ENC_TWO), 32);
    expect(ed25519_verify(badRS, baseMessage(), BASE_LENGTH, baseKey())).toBe(E_BAD_R);
  });
});

// ---------------------------------------------------------------------------

describe("ed25519_verify: resources", () => {
  it("never allocates once set up, whatever the outcome", () => {
    let sig = baseSignature();
    let message = baseMessage();
    let key = baseKey();
    let offCurve = bytes(ENC_TWO);
    let badS = baseSignature();
    flipBit(badS, 256 + 255);
    let wrong = 0;
    expect(ed25519_verify(sig, message, BASE_LENGTH, key)).toBe(ED25519_OK);
    let before = allocation_count();
    for (let i = 0; i < 3; i++) {
      if (ed25519_verify(sig, message, BASE_LENGTH, key) != ED25519_OK) wrong++;
      if (ed25519_verify(sig, message, BASE_LENGTH - 1, key) != E_BAD_SIGNATURE) wrong++;
      if (ed25519_verify(sig, message, BASE_LENGTH, offCurve) != E_BAD_PUBLIC_KEY) wrong++;
      if (ed25519_verify(badS, message, BASE_LENGTH, key) != E_BAD_S) wrong++;
    }
    expect(allocation_count()).toBe(before);
    expect(wrong).toBe(0);
  });

  it("leaves the signature, message and key as they were", () => {
    let sig = baseSignature();
    let message = baseMessage();
    let key = baseKey();
    let sigCopy = copyOf(sig, 64);
    let messageCopy = copyOf(message, BASE_LENGTH);
    let keyCopy = copyOf(key, 32);
    expect(ed25519_verify(sig, message, BASE_LENGTH, key)).toBe(ED25519_OK);
    expect(memory.compare(sig, sigCopy, 64)).toBe(0);
    expect(memory.compare(message, messageCopy, BASE_LENGTH)).toBe(0);
    expect(memory.compare(key, keyCopy, 32)).toBe(0);
  });

  it("gives the same answer when called again", () => {
    let sig = baseSignature();
    let message = baseMessage();
    let key = baseKey();
    for (let i = 0; i < 3; i++) {
      expect(ed25519_verify(sig, message, BASE_LENGTH, key)).toBe(ED25519_OK);
      expect(ed25519_verify(sig, message, BASE_LENGTH - 1, key)).toBe(E_BAD_SIGNATURE);
    }
  });
});
