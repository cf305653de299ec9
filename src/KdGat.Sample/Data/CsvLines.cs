using System.Text;
using KdGat.Sample.Common;

namespace KdGat.Sample.Data;

/// <summary>
/// Reads a raw CSV file line by line with a bound on line length, so a binary file or one without
/// newlines cannot make the reader hold it whole in memory. Raw CSV is ASCII; any other byte is
/// reported with its line and column rather than decoded into something that fails later.
/// </summary>
internal sealed class CsvLines : IDisposable
{
    /// <summary>A frame row is under 60 bytes; this leaves room for long timestamps and spaces.</summary>
    public const int MaxLineBytes = 256;
    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];

    private readonly Stream _stream;
    private readonly byte[] _buffer = new byte[1 << 16];
    private readonly byte[] _line = new byte[MaxLineBytes + 1];
    private int _pos, _len;

    private CsvLines(Stream stream, string path) => (_stream, Path) = (stream, path);

    public string Path { get; }

    /// <summary>Number of the line <see cref="Next"/> returned last (1-based).</summary>
    public long LineNumber { get; private set; }

    public static CsvLines Open(string path)
    {
        try
        {
            return new CsvLines(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan), path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SampleError($"cannot read raw data ({e.Message})", path, "check the file exists and is readable");
        }
    }

    public SampleError Error(string what, string fix, long? line = null) => new(what, Path, fix, line ?? LineNumber);

    /// <summary>The next line without its line ending, or null at the end of the file.</summary>
    public string? Next()
    {
        var length = 0;
        var sawAny = false;
        while (true)
        {
            if (_pos == _len && !Fill()) break;
            sawAny = true;
            var b = _buffer[_pos++];
            if (b == '\n') break;
            // One byte of slack for a '\r' before the '\n'; the length is checked again without it.
            if (length == _line.Length) throw TooLong(LineNumber + 1);
            _line[length++] = b;
        }
        if (!sawAny) return null;
        LineNumber++;
        if (length > 0 && _line[length - 1] == '\r') length--;
        var start = LineNumber == 1 && _line.AsSpan(0, length).StartsWith(Bom) ? Bom.Length : 0;
        if (length > MaxLineBytes) throw TooLong(LineNumber);
        for (var i = start; i < length; i++)
        {
            var c = _line[i];
            if (c is < 0x20 or > 0x7E && c != '\t')
                throw Error($"byte 0x{c:X2} at column {i - start + 1} is not CSV text (binary data or a non-ASCII character)",
                    "raw CSV is plain ASCII: remove binary or foreign files from the dataset directory, or re-export the capture");
        }
        return Encoding.ASCII.GetString(_line, start, length - start);
    }

    private SampleError TooLong(long line) =>
        Error($"line is longer than {MaxLineBytes} bytes", "a frame row is well under 100 bytes: is this really a CSV capture? Remove it from the dataset directory or fix it", line);

    private bool Fill()
    {
        try
        {
            _len = _stream.Read(_buffer, 0, _buffer.Length);
        }
        catch (IOException e)
        {
            throw Error($"cannot read raw data ({e.Message})", "check the file and the disk", LineNumber + 1);
        }
        _pos = 0;
        return _len > 0;
    }

    public void Dispose() => _stream.Dispose();
}
