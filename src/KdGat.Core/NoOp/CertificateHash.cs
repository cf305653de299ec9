using System.Security.Cryptography;
using System.Text;

namespace KdGat.Core.NoOp;

/// <summary>
/// The digests inside a no-op certificate (its keys, its checksum, the answers for directory listings
/// and environment variables): the first 128 bits of SHA-256, as lowercase hex. Not
/// <see cref="Hashing.ContentHash"/>: a certified no-op hashes nothing else, and XxHash128 is not
/// precompiled, so its ~30 methods were compiled in every no-op, where SHA-256 is already loaded by
/// the bootstrap's tool-source hash. Only certificates hold these; a change of function needs a new
/// certificate <c>Header</c>.
/// </summary>
internal static class CertificateHash
{
    public static string Of(string text)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), digest);
        return Convert.ToHexStringLower(digest[..16]);
    }
}
