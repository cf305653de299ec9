using System.Globalization;
using System.Runtime.InteropServices;
using KdGat.Sample.Common;

namespace KdGat.Sample.Cli;

/// <summary>
/// Test hooks for KdGat's own executor tests: KDGAT_SAMPLE_ALLOC_MB makes the process allocate
/// and touch that much memory (out-of-memory handling), KDGAT_SAMPLE_SLEEP_MS makes it wait
/// before working (kill and cancel handling). Allocation comes first so the memory is held
/// while sleeping, where a scheduler's memory sampling can see it.
/// </summary>
internal sealed class StressHooks : IDisposable
{
    public const string AllocVariable = "KDGAT_SAMPLE_ALLOC_MB";
    public const string SleepVariable = "KDGAT_SAMPLE_SLEEP_MS";
    private const int Chunk = 1 << 20;
    private readonly List<IntPtr> _blocks = [];

    public long AllocatedBytes => (long)_blocks.Count * Chunk;

    public static StressHooks Apply(Func<string, string?> env)
    {
        var hooks = new StressHooks();
        var mb = Read(env, AllocVariable);
        // Native memory, not the GC heap: the .NET heap hard limit under a cgroup would throw a
        // managed OutOfMemoryException, whereas these tests want the kernel's OOM kill, as a real
        // (Python) training job would get.
        for (var i = 0; i < mb; i++)
        {
            var block = Marshal.AllocHGlobal(Chunk);
            hooks._blocks.Add(block);
            for (var offset = 0; offset < Chunk; offset += 4096) Marshal.WriteByte(block, offset, 1);
        }
        var ms = Read(env, SleepVariable);
        if (ms > 0) Thread.Sleep(TimeSpan.FromMilliseconds(ms));
        return hooks;
    }

    private static long Read(Func<string, string?> env, string name)
    {
        var text = env(name);
        if (string.IsNullOrWhiteSpace(text)) return 0;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > int.MaxValue)
            throw new SampleError($"{name}='{text}' is not a whole number", "environment", $"set {name} to a number, or unset it");
        return value;
    }

    public void Dispose()
    {
        foreach (var b in _blocks) Marshal.FreeHGlobal(b);
        _blocks.Clear();
    }
}
