#:package System.IO.Hashing
#:property InvariantGlobalization=true
// In-memory XxHash128 throughput (the CPU ceiling for KdGat's hashing), single thread, 1 MiB
// appends as ContentHash.OfFile does. Usage: dotnet run bench/xxhash.cs -- [MiB] [repeats]
using System.Diagnostics;
using System.IO.Hashing;

var mib = args.Length > 0 ? int.Parse(args[0]) : 1024;
var reps = args.Length > 1 ? int.Parse(args[1]) : 5;
var buf = new byte[mib << 20];
new Random(1).NextBytes(buf);
var best = double.MaxValue;
for (var r = 0; r < reps; r++)
{
    var sw = Stopwatch.StartNew();
    var h = new XxHash128();
    for (var off = 0; off < buf.Length; off += 1 << 20) h.Append(buf.AsSpan(off, 1 << 20));
    h.GetCurrentHash();
    best = Math.Min(best, sw.Elapsed.TotalSeconds);
}
Console.WriteLine($"{mib / 1024.0 / best:F2}"); // GB/s (GiB), best of reps
