namespace KdGat.Core.Execution.Local;

/// <summary>
/// Finds the processes of one stage attempt on this host: by the KDGAT_ATTEMPT_ID in their
/// environment (every local attempt gets one, and children inherit it), for stopping the orphans
/// of a build that died; or by the process group its shell led, for what it left running.
/// Only this user's processes are readable, which is what is wanted.
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
            var found = Find((dir, _) => ("\0" + File.ReadAllText($"{dir}/environ")).Contains(needle, StringComparison.Ordinal));
            if (found.Count == 0) return;
            foreach (var (pid, pgid) in found)
            {
                if (pgid == pid) PosixSpawn.KillGroup(pid, SigKill);
                PosixSpawn.KillProcess(pid, SigKill);
            }
            Time.Clock.Sleep(time ?? TimeProvider.System, TimeSpan.FromMilliseconds(50)); // a killed process leaves /proc (or turns zombie) asynchronously
        }
    }

    /// <summary>
    /// The process group a journalled local attempt's shell led (<paramref name="leader"/>, started at
    /// <paramref name="startTicks"/>): a build that died left it running, and its processes need not carry the
    /// attempt id (a command run through `env -i`, or a container runtime that clears the environment, such as
    /// `apptainer exec --cleanenv`): such an orphan outlived recovery and wrote into the next attempt's outputs (a
    /// review). SIGKILLs the group's live processes started since the leader, until none is left; nothing when a
    /// process of another start time holds the leader's pid (Linux gives a pid to no new process while a group of
    /// that id lives, so the group is gone then).
    /// </summary>
    public static void StopJournalledGroup(int leader, long startTicks, TimeProvider? time = null)
    {
        if (StartTicksOf(leader) is { } now && now != startTicks) return;
        var group = leader.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (var round = 0; round < 100; round++)
        {
            var found = Find((_, fields) => fields[2] == group && long.TryParse(fields[StartTimeField], out var t) && t >= startTicks);
            if (found.Count == 0) return;
            foreach (var (pid, _) in found) PosixSpawn.KillProcess(pid, SigKill);
            Time.Clock.Sleep(time ?? TimeProvider.System, TimeSpan.FromMilliseconds(50));
        }
    }

    /// <summary>When a live process started (clock ticks after boot, /proc/PID/stat's field 22); null when there is none.</summary>
    public static long? StartTicksOf(int pid)
    {
        try
        {
            var fields = StatFields($"/proc/{pid}");
            return fields[0] is "Z" or "X" ? null : long.Parse(fields[StartTimeField], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException) { return null; }
    }

    /// <summary>This boot's id (start times count from it); null where Linux does not give it.</summary>
    public static string? BootId()
    {
        try { return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>A process's /proc/PID/stat fields after its name (which may hold spaces and parentheses): [0] is field 3, the state.</summary>
    private static string[] StatFields(string procDir)
    {
        var stat = File.ReadAllText($"{procDir}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    /// <summary>starttime among the stat fields after the name (field 22; the first after the name is field 3).</summary>
    private const int StartTimeField = 22 - 3;

    /// <summary>
    /// After an attempt's shell exited: SIGKILLs what it left running in the process group it led
    /// (work started with <c>&amp;</c> and never waited for), as SLURM ends a job's processes with its
    /// batch script, so nothing writes an output after the attempt ended and its outputs were hashed.
    /// Waits until they are gone, at least 5 s (a process blocked in an NFS write dies when the write
    /// returns); <see cref="LeftoverProcesses.Survived"/> when some outlived that.
    /// </summary>
    public static LeftoverProcesses StopGroup(int pgid, TimeProvider? time = null)
    {
        if (!PosixSpawn.GroupExists(pgid)) return LeftoverProcesses.None; // the usual case: one kill(2), no /proc scan
        var group = pgid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var left = false;
        for (var round = 0; round < 250; round++)
        {
            // Zombies (already exited, waiting for init to reap them) are not "left running".
            if (Find((_, fields) => fields[2] == group).Count == 0) return left ? LeftoverProcesses.Killed : LeftoverProcesses.None;
            left = true;
            PosixSpawn.KillGroup(pgid, SigKill);
            Time.Clock.Sleep(time ?? TimeProvider.System, TimeSpan.FromMilliseconds(20));
        }
        return LeftoverProcesses.Survived;
    }

    /// <summary>Live processes (not zombies) that <paramref name="match"/> accepts, given their /proc dir and the stat fields after the name.</summary>
    private static List<(int Pid, int Pgid)> Find(Func<string, string[], bool> match)
    {
        var found = new List<(int, int)>();
        if (!Directory.Exists("/proc")) return found;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == Environment.ProcessId) continue;
            try
            {
                var fields = StatFields(dir);
                if (fields[0] is "Z" or "X") continue; // dead, waiting to be reaped
                if (!match(dir, fields)) continue;
                found.Add((pid, int.Parse(fields[2], System.Globalization.CultureInfo.InvariantCulture)));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException) { }
        }
        return found;
    }
}
