using System.Runtime.InteropServices;

namespace KdGat.Core.IO;

/// <summary>
/// Test seam for crash-safety: every file operation of the attempt protocol (AtomicFile, FileMover,
/// OutputGuard) calls <see cref="Hit"/> just before it acts. Without a plan (always, outside tests)
/// it does nothing. A plan counts the operations of its own async flow and, at the chosen one,
/// fails it (an IOException, as a full disk would), crashes (this operation and every later one
/// of the flow throw, as if the process had died), kills the process with SIGKILL, or cancels the
/// flow's token and lets the operation go on (a Ctrl+C that comes just before it).
/// </summary>
internal static partial class CrashPoints
{
    public enum Mode { Fail, Crash, Kill, Cancel }

    public sealed class Plan(int at, Mode mode)
    {
        /// <summary>A plan that cancels <paramref name="cancel"/> at operation <paramref name="at"/> (<see cref="Mode.Cancel"/>).</summary>
        public Plan(int at, CancellationTokenSource cancel) : this(at, Mode.Cancel) => _cancel = cancel;

        private readonly CancellationTokenSource? _cancel;
        public int At { get; } = at;
        public Mode Mode { get; } = mode;
        public int Count { get; private set; }
        public bool Crashed { get; private set; }
        /// <summary>Every operation seen, numbered: what a sweep iterates over and prints when it fails.</summary>
        public List<string> Seen { get; } = [];

        internal void Hit(string op, string path)
        {
            if (Reached(op, path)) throw new IOException($"injected failure of operation {At} ({op} {path})");
        }

        /// <summary>Counts the operation and acts as <see cref="Hit"/> does, but for <see cref="Mode.Fail"/> returns true instead of throwing.</summary>
        internal bool Reached(string op, string path)
        {
            lock (this)
            {
                if (Crashed) throw new SimulatedCrashException($"after the crash: {op} {path}");
                Seen.Add($"{++Count} {op} {path}");
                if (Count != At) return false;
                switch (Mode)
                {
                    case Mode.Fail: return true;
                    case Mode.Kill: Kill(Environment.ProcessId, 9); break;
                    case Mode.Cancel: break;
                    default:
                        Crashed = true;
                        throw new SimulatedCrashException($"crash at operation {Count}: {op} {path}");
                }
            }
            if (Mode == Mode.Cancel) _cancel!.Cancel(); // outside the lock: the token's callbacks may do file operations of their own
            return false;
        }
    }

    private static readonly AsyncLocal<Plan?> s_plan = new();

    /// <summary>The plan of the current async flow (and the tasks it starts); null in production.</summary>
    public static Plan? Current
    {
        get => s_plan.Value;
        set => s_plan.Value = value;
    }

    public static void Hit(string op, string path) => s_plan.Value?.Hit(op, path);

    /// <summary>
    /// For a system call that has already run and whose result is checked after it (close(2): NFS reports a
    /// refused write-back there): true when the plan fails this operation, which the caller then reports as
    /// the call's error. A crash, kill or cancel plan acts as at <see cref="Hit"/>.
    /// </summary>
    public static bool Refused(string op, string path) => s_plan.Value?.Reached(op, path) ?? false;

    [LibraryImport("libc", EntryPoint = "kill")] private static partial int Kill(int pid, int sig);
}

/// <summary>Thrown by a crash plan: nothing may catch it but the test that set the plan.</summary>
internal sealed class SimulatedCrashException(string message) : Exception(message);
