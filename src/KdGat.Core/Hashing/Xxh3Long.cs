using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace KdGat.Core.Hashing;

/// <summary>
/// XXH3-128 (default secret, seed 0) of a stream of more than 240 bytes on AVX2, read in chunks: the
/// digest <see cref="System.IO.Hashing.XxHash128"/> gives for the same bytes (tests compare the two
/// over every length to 4,200, chunk boundaries and random lengths, and pin known digests).
/// Why not only the library: in a fresh MSBuild process its loops start at tier 0 (then on-stack
/// replacement) and are recompiled optimized only after the process has gone quiet, so a cold build
/// hashed 10 GB about 30 % slower than with tiering off (measured: 18 against 25 GB/s on two
/// threads). This loop is compiled fully optimized at its first call (<see cref="MethodImplOptions.AggressiveOptimization"/>).
/// Algorithm: the xxHash specification's XXH3 long path: stripes of 64 bytes, blocks of 16 stripes
/// with a scramble after each, the last 64 bytes as a final stripe, two merges of the 8 accumulators.
/// </summary>
internal static unsafe class Xxh3Long
{
    /// <summary>Where XXH3 leaves its short paths (0-240 bytes, the library's).</summary>
    public const int MinLength = 241;

    public static bool IsSupported => Avx2.IsSupported;

    private const ulong Prime32_1 = 0x9E3779B1, Prime32_2 = 0x85EBCA77, Prime32_3 = 0xC2B2AE3D;
    private const ulong Prime64_1 = 0x9E3779B185EBCA87, Prime64_2 = 0xC2B2AE3D27D4EB4F, Prime64_3 = 0x165667B19E3779F9;
    private const ulong Prime64_4 = 0x85EBCA77C2B2AE63, Prime64_5 = 0x27D4EB2F165667C5;
    private const int SecretSize = 192, StripeLength = 64, StripesPerBlock = (SecretSize - StripeLength) / 8;

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

    /// <summary>
    /// The 16-byte digest (big-endian, as <c>XxHash128.GetCurrentHash</c>) of the first
    /// <paramref name="length"/> bytes of <paramref name="stream"/>, or of fewer if it ends first
    /// (a file cut short while read: the bytes read, as the library would have hashed them).
    /// </summary>
    /// <param name="buffer">Where chunks are read: whole stripes of it, at least 256 bytes (a first chunk holds any input too short for this path).</param>
    /// <param name="cancel">Looked at before each chunk is read (Ctrl+C during a 10 GB checkpoint): one volatile read per chunk.</param>
    public static byte[] Hash(Stream stream, long length, byte[] buffer, CancellationToken cancel = default)
    {
        var chunkLength = buffer.Length - buffer.Length % StripeLength;
        if (chunkLength < MinLength) throw new ArgumentException("the buffer must hold at least 256 bytes", nameof(buffer));
        var state = State.Initial;
        // The last stripe read, not accumulated yet: if the input ends with it, it is the final stripe,
        // which XXH3 treats apart (a file cut short at a chunk's end must hash as the library would).
        var pending = stackalloc byte[StripeLength];
        var hasPending = false;
        var final = stackalloc byte[StripeLength];
        long total = 0;
        fixed (byte* chunk = buffer)
        {
            while (true)
            {
                cancel.ThrowIfCancellationRequested();
                var n = Fill(stream, buffer, (int)Math.Min(chunkLength, length - total));
                total += n;
                if (n < chunkLength || total >= length) // the input's last chunk (perhaps empty)
                {
                    if (total < MinLength) return System.IO.Hashing.XxHash128.Hash(buffer.AsSpan(0, n)); // cut short below this path: all of it is in this chunk
                    if (n == 0) return Finish(ref state, pending, total);
                    if (hasPending) Stripes(ref state, pending, 1);
                    Stripes(ref state, chunk, (n - 1) / StripeLength); // every stripe before the final one, which ends at the input's end
                    if (n >= StripeLength) return Finish(ref state, chunk + n - StripeLength, total);
                    Buffer.MemoryCopy(pending + n, final, StripeLength, StripeLength - n); // the final stripe reaches back into the chunk before
                    Buffer.MemoryCopy(chunk, final + StripeLength - n, n, n);
                    return Finish(ref state, final, total);
                }
                if (hasPending) Stripes(ref state, pending, 1);
                Stripes(ref state, chunk, n / StripeLength - 1);
                Buffer.MemoryCopy(chunk + n - StripeLength, pending, StripeLength, StripeLength);
                hasPending = true;
            }
        }
    }

    private static int Fill(Stream stream, byte[] buffer, int want)
    {
        var n = 0;
        int got;
        while (n < want && (got = stream.Read(buffer, n, want - n)) > 0) n += got;
        return n;
    }

    /// <summary>The 8 accumulators, and how many stripes of the current block they have taken.</summary>
    private struct State
    {
        public Vector256<ulong> Acc0, Acc1;
        public int StripeInBlock;

        public static State Initial => new()
        {
            Acc0 = Vector256.Create(Prime32_3, Prime64_1, Prime64_2, Prime64_3),
            Acc1 = Vector256.Create(Prime64_4, Prime32_2, Prime64_5, Prime32_1),
        };
    }

    /// <summary>Accumulates <paramref name="count"/> stripes, scrambling after every 16th of a block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Stripes(ref State state, byte* p, int count)
    {
        var acc0 = state.Acc0;
        var acc1 = state.Acc1;
        var s = state.StripeInBlock;
        fixed (byte* secret = Secret)
        {
            for (var i = 0; i < count; i++, p += StripeLength)
            {
                acc0 = Accumulate(acc0, p, secret + s * 8);
                acc1 = Accumulate(acc1, p + 32, secret + s * 8 + 32);
                if (++s == StripesPerBlock)
                {
                    acc0 = Scramble(acc0, secret + SecretSize - StripeLength);
                    acc1 = Scramble(acc1, secret + SecretSize - StripeLength + 32);
                    s = 0;
                }
            }
        }
        state.Acc0 = acc0;
        state.Acc1 = acc1;
        state.StripeInBlock = s;
    }

    private static byte[] Finish(ref State state, byte* lastStripe, long length)
    {
        fixed (byte* secret = Secret)
        {
            var lastSecret = secret + SecretSize - StripeLength - 7;
            var acc0 = Accumulate(state.Acc0, lastStripe, lastSecret);
            var acc1 = Accumulate(state.Acc1, lastStripe + 32, lastSecret + 32);
            ulong* acc = stackalloc ulong[8];
            acc0.Store(acc);
            acc1.Store(acc + 4);
            var low = Merge(acc, secret + 11, unchecked((ulong)length * Prime64_1));
            var high = Merge(acc, secret + SecretSize - 64 - 11, ~unchecked((ulong)length * Prime64_2));
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

    private static ulong Merge(ulong* acc, byte* secret, ulong start)
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
