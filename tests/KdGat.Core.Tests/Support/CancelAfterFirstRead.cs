namespace KdGat.Core.Tests.Support;

/// <summary>A read-only stream that cancels <paramref name="cts"/> as it is first read: a Ctrl+C in the middle of a large file's reads.</summary>
internal sealed class CancelAfterFirstRead(Stream inner, CancellationTokenSource cts) : Stream
{
    public int Reads { get; private set; }
    public override int Read(byte[] buffer, int offset, int count)
    {
        Reads++;
        cts.Cancel();
        return inner.Read(buffer, offset, count);
    }
    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
