namespace KdGat.Sample.Data;

/// <summary>One CAN frame. Time is integer microseconds so formatting never depends on float printing.</summary>
internal sealed record Frame(long TimeUs, uint Id, byte[] Data, bool Attack);
