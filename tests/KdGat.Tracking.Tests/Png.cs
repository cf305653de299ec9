using System.Buffers.Binary;
using System.IO.Compression;

namespace KdGat.Tracking.Tests;

/// <summary>Just enough PNG decoding (8-bit RGB/RGBA, non-interlaced: what Chromium writes) to count pixel colours.</summary>
internal sealed class Png
{
    public int Width { get; private init; }
    public int Height { get; private init; }
    private byte[] _rgb = [];

    public (byte R, byte G, byte B) this[int x, int y] => (_rgb[(y * Width + x) * 3], _rgb[(y * Width + x) * 3 + 1], _rgb[(y * Width + x) * 3 + 2]);

    public static Png Read(string path)
    {
        var data = File.ReadAllBytes(path);
        if (data.Length < 8 || data[1] != 'P' || data[2] != 'N' || data[3] != 'G') throw new InvalidDataException("not a PNG: " + path);
        int width = 0, height = 0, colorType = 0, depth = 0;
        using var idat = new MemoryStream();
        for (var pos = 8; pos < data.Length;)
        {
            var len = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(pos));
            var type = System.Text.Encoding.ASCII.GetString(data, pos + 4, 4);
            var body = data.AsSpan(pos + 8, len);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                depth = body[8];
                colorType = body[9];
                if (body[12] != 0) throw new NotSupportedException("interlaced PNG");
            }
            else if (type == "IDAT") idat.Write(body);
            else if (type == "IEND") break;
            pos += 12 + len;
        }
        if (depth != 8 || colorType is not (2 or 6)) throw new NotSupportedException($"PNG depth {depth} colour type {colorType}");
        var bpp = colorType == 6 ? 4 : 3;
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        z.CopyTo(raw);
        var src = raw.ToArray();
        var stride = width * bpp;
        var prev = new byte[stride];
        var cur = new byte[stride];
        var rgb = new byte[width * height * 3];
        for (var y = 0; y < height; y++)
        {
            var filter = src[y * (stride + 1)];
            Array.Copy(src, y * (stride + 1) + 1, cur, 0, stride);
            for (var i = 0; i < stride; i++)
            {
                int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                cur[i] = (byte)(cur[i] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException("bad PNG filter " + filter),
                });
            }
            for (var x = 0; x < width; x++)
            {
                rgb[(y * width + x) * 3] = cur[x * bpp];
                rgb[(y * width + x) * 3 + 1] = cur[x * bpp + 1];
                rgb[(y * width + x) * 3 + 2] = cur[x * bpp + 2];
            }
            (prev, cur) = (cur, prev);
        }
        return new Png { Width = width, Height = height, _rgb = rgb };
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>Pixels within <paramref name="tolerance"/> of the colour "#rrggbb", and the rows they span.</summary>
    public (int Count, int MinY, int MaxY) Count(string hex, int tolerance = 6)
    {
        var r = Convert.ToInt32(hex[1..3], 16);
        var g = Convert.ToInt32(hex[3..5], 16);
        var b = Convert.ToInt32(hex[5..7], 16);
        int n = 0, minY = int.MaxValue, maxY = -1;
        for (var y = 0; y < Height; y++)
            for (var x = 0; x < Width; x++)
            {
                var p = this[x, y];
                if (Math.Abs(p.R - r) <= tolerance && Math.Abs(p.G - g) <= tolerance && Math.Abs(p.B - b) <= tolerance)
                {
                    n++;
                    minY = Math.Min(minY, y);
                    maxY = Math.Max(maxY, y);
                }
            }
        return (n, minY, maxY);
    }
}
