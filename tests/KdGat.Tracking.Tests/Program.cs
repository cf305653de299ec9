using KdGat.Core.Diagnostics;
using KdGat.Core.Tracking;
using KdGat.Testing;

namespace KdGat.Tracking.Tests;

/// <summary>
/// `dotnet KdGat.Tracking.Tests.dll child ...`: what the concurrency tests run in many processes
/// at once. Under `dotnet test` this Main is not used (the test host has its own).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 0) return 0;
        try
        {
            switch (args[0])
            {
                // write-ingest <root> <db> <wal|delete> <writer> <count>: write records one by one, ingesting after each.
                case "write-ingest":
                {
                    var (root, db, wal, writer, count) = (args[1], args[2], args[3] == "wal", args[4], int.Parse(args[5]));
                    var store = new RecordStore(Path.Combine(root, ".kdgat"));
                    var loc = new IndexLocation(db, wal, "test");
                    for (var i = 0; i < count; i++)
                    {
                        store.Write(Records.Make($"{writer}-{i}", dataset: "d" + (i % 3), stage: "s" + (i % 4)));
                        using var index = RunIndex.Open(loc, store);
                    }
                    Console.WriteLine($"retries={SqliteRetry.Retries}");
                    return 0;
                }
                // ingest <root> <db> <batch>: one (slow, small-batch) ingest of whatever is there; the kill test kills it midway.
                case "ingest":
                {
                    var store = new RecordStore(Path.Combine(args[1], ".kdgat"));
                    using var index = RunIndex.Open(new IndexLocation(args[2], true, "test"), store);
                    Console.WriteLine("opened");
                    return 0;
                }
                // hold-index-lock <lock> <exclusive|shared> <release file>: take the lock, say "held", keep it until the release file exists.
                case "hold-index-lock":
                {
                    using (args[2] == "exclusive" ? IndexLock.Exclusive(args[1], TimeSpan.FromMinutes(1)) : IndexLock.Shared(args[1], TimeSpan.FromMinutes(1)))
                    {
                        Console.WriteLine("held");
                        Eventually.Within(TimeSpan.FromMinutes(5), () => File.Exists(args[3]) || !Directory.Exists(Path.GetDirectoryName(args[3]))); // a test that failed removes its dir
                    }
                    return 0;
                }
                // take-index-lock <lock> <exclusive|shared>: try for one second; say "acquired" or "busy".
                case "take-index-lock":
                {
                    try
                    {
                        using var l = args[2] == "exclusive" ? IndexLock.Exclusive(args[1], TimeSpan.FromSeconds(1)) : IndexLock.Shared(args[1], TimeSpan.FromSeconds(1));
                        Console.WriteLine("acquired");
                    }
                    catch (IOException e)
                    {
                        Console.WriteLine("busy: " + e.Message);
                    }
                    return 0;
                }
                default:
                    Console.Error.WriteLine("unknown child mode " + args[0]);
                    return 2;
            }
        }
        catch (KdgException e)
        {
            Console.Error.WriteLine(e.ToString());
            return 3;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("CRASH " + e);
            return 4;
        }
    }
}
