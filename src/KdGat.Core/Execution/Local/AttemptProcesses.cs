namespace KdGat.Core.Execution.Local;

/// <summary>
/// Finds the processes of one stage attempt on this host by the KDGAT_ATTEMPT_ID in their
/// environment (every local attempt gets one, and children inherit it), for stopping the orphans
/// of a build that died. Only this user's processes are readable, which is what is wanted.
/// </summary>
internal static class AttemptProcesses
{
    private const int SigKill = 9;

    /// <summary>SIGKILLs every live process carrying the attempt id (and the process group it leads), until none is left.</summary>
    public static void Stop(string attemptId, TimeProvider? time = null)
    {
        var needle = $"\0KDGAT_ATTEMPT_ID={attemptId}\0";
        for (var round = 0; round < 100; round++)
        {
            var found = Find(needle);
            if (found.Count == 0) return;
            foreach (var (pid, pgid) in found)
            {
                if (pgid == pid) PosixSpawn.KillGroup(pid, SigKill);
                PosixSpawn.KillProcess(pid, SigKill);
            }
            Time.Clock.Sleep(time ?? TimeProvider.System, TimeSpan.FromMilliseconds(50)); // a killed process leaves /proc (or turns zombie) asynchronously
        }
    }

    private static List<(int Pid, int Pgid)> Find(string needle)
    {
        var found = new List<(int, int)>();
        if (!Directory.Exists("/proc")) return found;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var stat = File.ReadAllText($"{dir}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields[0] is "Z" or "X") continue; // dead, waiting to be reaped
                if (!("\0" + File.ReadAllText($"{dir}/environ")).Contains(needle, StringComparison.Ordinal)) continue;
                found.Add((pid, int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { }
        }
        return found;
    }
}
