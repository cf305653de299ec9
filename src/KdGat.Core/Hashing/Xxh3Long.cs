using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KdGat.Core.Hashing;

/// <summary>
/// XXH3-128 (default secret, seed 0) of an input longer than 240 bytes, on AVX2: the digest
/// <see cref="System.IO.Hashing.XxHash128"/> gives for the same bytes (tests compare the two on
/// many lengths and pin known digests). Why not just the library: in a fresh MSBuild process its
/// code starts unoptimized (tier 0, then on-stack replacement) and tiers up only once the
/// process has gone quiet, which over 10 GB cost ~0.3 s of CPU (measured: with
/// DOTNET_TieredCompilation=0 the same build hashed in ~0.5 s of CPU instead of ~0.8 s). This
/// loop is compiled fully optimized on its first call (<see cref="MethodImplOptions.AggressiveOptimization"/>).
/// Algorithm: xxHash specification, XXH3 "long" path (stripes of 64 bytes, blocks of 16 stripes
/// with a scramble after each, last stripe at the end, two merges of the 8 accumulators).
/// </summary>
internal static unsafe class Xxh3Long
{
    public static bool IsSupported => Avx2.IsSupported;

    private const ulong Prime32_1 = 0x9E3779B1, Prime32_2 = 0x85EBCA77, Prime32_3 = 0xC2B2AE3D;
    private const ulong Prime64_1 = 0x9E3779B185EBCA87, Prime64_2 = 0xC2B2AE3D27D4EB4F, Prime64_3 = 0x165667B19E3779F9;
    private const ulong Prime64_4 = 0x85EBCA77C2B2AE63, Prime64_5 = 0x27D4EB2F165667C5;
    private const int SecretSize = 192, StripeLength = 64, StripesPerBlock = (SecretSize - StripeLength) / 8, BlockLength = StripeLength * StripesPerBlock;

    /// <summary>The default secret (kSecret) of the xxHash specification.</summary>
    private static ReadOnlySpan<byte> Secret =>
    [
        0xb8, 0xfe, 0x6c, 0x39, 0x23, 0xa4, 0x4b, 0xbe, 0x7c, 0x01, 0x81, 0x2c, 0xf7, 0x21, 0xad, 0x1c,
        0xde, 0xd4, 0x6d, 0xe9, 0x83, 0x90, 0x97, 0xdb, 0x72, 0x40, 0xa4, 0xa4, 0xb7, 0xb3, 0x67, 0x1f,
        0xcb, 0x79, 0xe6, 0x4e, 0xcc, 0xc0, 0xe5, 0x78, 0x82, 0x5a, 0xd0, 0x7d, 0xcc, 0xff, 0x72, 0x21,
        0xb8, 0x08, 0x46, 0x74, 0xf7, 0x43, 0x24, 0x8e, 0xe0, 0x35, 0x90, 0xe6, 0x81, 0x3a, 0x26, 0x4c,
        0x3c, 0x28, 0x52, 0xbb, 0x91, 0xc3, 0x00, 0xcb, 0x88, 0xd0, 0x65, 0x8b, 0x1b, 0x53, 0x2e, 0xa3,
        0x71, 0x64, 0x48, 0x97, 0xa2, 0x0d, 0xf9, 0x4e, 0x38, 0x19, 0xef, 0x46, 0xa9, 0xde, 0xac, 0xd8,
        0xa8, 0xfa, 0x76, 0x3f, 0xe3, 0x9c, 0x34, 0x3f, 0xf9, 0xdc, 0xbb, 0xc7, 0xc7, 0x0b, 0x4f, 0x1d,
        0x8a, 0x51, 0xe0, 0x4b, 0xcd, 0xb4, 0x59, 0x31, 0xc8, 0x9f, 0x7e, 0xc9, 0xd9, 0x78, 0x73, 0x64,
        0xea, 0xc5, 0xac, 0x83, 0x34, 0xd3, 0xeb, 0xc3, 0xc5, 0x81, 0xa0, 0xff, 0xfa, 0x13, 0x63, 0xeb,
        0x17, 0x0d, 0xdd, 0x51, 0xb7, 0xf0, 0xda, 0x49, 0xd3, 0x16, 0x55, 0x26, 0x29, 0xd4, 0x68, 0x9e,
        0x2b, 0x16, 0xbe, 0x58, 0x7d, 0x47, 0xa1, 0xfc, 0x8f, 0xf8, 0xb8, 0xd1, 0x7a, 0xd0, 0x31, 0xce,
        0x45, 0xcb, 0x3a, 0x8f, 0x95, 0x16, 0x04, 0x28, 0xaf, 0xd7, 0xfb, 0xca, 0xbb, 0x4b, 0x40, 0x7e,
    ];

    /// <summary>As <see cref="Hash(byte*, long)"/>, of a span.</summary>
    public static byte[] Hash(ReadOnlySpan<byte> input)
    {
        fixed (byte* p = input) return Hash(p, input.Length);
    }

    /// <summary>The 16-byte digest (big-endian, as <c>XxHash128.GetCurrentHash</c>) of <paramref name="length"/> (&gt; 240) bytes at <paramref name="input"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static byte[] Hash(byte* input, long length)
    {
        if (!Avx2.IsSupported) throw new PlatformNotSupportedException();
        if (length <= 240) throw new ArgumentOutOfRangeException(nameof(length), "the long path starts above 240 bytes");
        fixed (byte* secret = Secret)
        {
            var acc0 = Vector256.Create(Prime32_3, Prime64_1, Prime64_2, Prime64_3);
            var acc1 = Vector256.Create(Prime64_4, Prime32_2, Prime64_5, Prime32_1);
            var blocks = (length - 1) / BlockLength;
            var p = input;
            for (long b = 0; b < blocks; b++, p += BlockLength)
            {
                for (var s = 0; s < StripesPerBlock; s++)
                {
                    acc0 = Accumulate(acc0, p + s * StripeLength, secret + s * 8);
                    acc1 = Accumulate(acc1, p + s * StripeLength + 32, secret + s * 8 + 32);
                }
                acc0 = Scramble(acc0, secret + SecretSize - StripeLength);
                acc1 = Scramble(acc1, secret + SecretSize - StripeLength + 32);
            }
            var stripes = (int)((length - 1 - blocks * BlockLength) / StripeLength);
            for (var s = 0; s < stripes; s++)
            {
                acc0 = Accumulate(acc0, p + s * StripeLength, secret + s * 8);
                acc1 = Accumulate(acc1, p + s * StripeLength + 32, secret + s * 8 + 32);
            }
            var last = input + length - StripeLength;
            var lastSecret = secret + SecretSize - StripeLength - 7;
            acc0 = Accumulate(acc0, last, lastSecret);
            acc1 = Accumulate(acc1, last + 32, lastSecret + 32);

            ulong* acc = stackalloc ulong[8];
            acc0.Store(acc);
            acc1.Store(acc + 4);
            var low = MergeAccumulators(acc, secret + 11, unchecked((ulong)length * Prime64_1));
            var high = MergeAccumulators(acc, secret + SecretSize - 64 - 11, ~unchecked((ulong)length * Prime64_2));
            var digest = new byte[16];
            BinaryPrimitives.WriteUInt64BigEndian(digest, high);
            BinaryPrimitives.WriteUInt64BigEndian(digest.AsSpan(8), low);
            return digest;
        }
    }

    /// <summary>Four lanes of one stripe: acc[i] += data[i ^ 1] + lo32(data[i] ^ key[i]) * hi32(data[i] ^ key[i]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Accumulate(Vector256<ulong> acc, byte* data, byte* key)
    {
        var d = Avx.LoadVector256((ulong*)data);
        var dk = Avx2.Xor(d, Avx.LoadVector256((ulong*)key));
        var product = Avx2.Multiply(dk.AsUInt32(), Avx2.ShiftRightLogical(dk, 32).AsUInt32());
        var swapped = Avx2.Shuffle(d.AsUInt32(), 0b01_00_11_10).AsUInt64();
        return Avx2.Add(product, Avx2.Add(acc, swapped));
    }

    /// <summary>acc = (acc ^ (acc &gt;&gt; 47) ^ key) * PRIME32_1, a 64x32-bit multiply per lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<ulong> Scramble(Vector256<ulong> acc, byte* key)
    {
        var a = Avx2.Xor(Avx2.Xor(acc, Avx2.ShiftRightLogical(acc, 47)), Avx.LoadVector256((ulong*)key));
        var prime = Vector256.Create(Prime32_1).AsUInt32();
        var lo = Avx2.Multiply(a.AsUInt32(), prime);
        var hi = Avx2.Multiply(Avx2.ShiftRightLogical(a, 32).AsUInt32(), prime);
        return Avx2.Add(lo, Avx2.ShiftLeftLogical(hi, 32));
    }

    private static ulong MergeAccumulators(ulong* acc, byte* secret, ulong start)
    {
        var r = start;
        for (var i = 0; i < 4; i++)
            r += Mul128Fold64(acc[2 * i] ^ ReadUInt64(secret + 16 * i), acc[2 * i + 1] ^ ReadUInt64(secret + 16 * i + 8));
        r ^= r >> 37;
        r *= 0x165667919E3779F9;
        return r ^ (r >> 32);
    }

    private static ulong Mul128Fold64(ulong a, ulong b)
    {
        var high = Math.BigMul(a, b, out var low);
        return low ^ high;
    }

    private static ulong ReadUInt64(byte* p) => BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(p, 8));
}
