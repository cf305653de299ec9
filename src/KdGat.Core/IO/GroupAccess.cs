using System.Runtime.InteropServices;
using System.Text.RegularExpressions;

namespace KdGat.Core.IO;

/// <summary>
/// What to say when this user may not write a path in a project a group shares (a setgid folder, every member's
/// umask 002): the usual cause is a member who built with umask 022, whose files and folders the group can read
/// but not replace. The error said "Access to the path ... is denied", and the member who could fix it was not
/// named (a review of a two-user build).
/// </summary>
internal static partial class GroupAccess
{
    /// <summary>
    /// The sentence to add to a permission error: who owns the path <paramref name="e"/> names (or the nearest folder
    /// above it that exists: a file that could not be made there) and the one command that fixes it; "" where that
    /// path is this user's, or its group may write it, or there is none.
    /// </summary>
    /// <param name="root">The folder the fix should cover (the pipeline's root); else the folder of the path.</param>
    public static string Advice(Exception e, string? root = null) =>
        e is UnauthorizedAccessException && QuotedPath().Match(e.Message) is { Success: true } m ? Advice(m.Groups[1].Value, root) : "";

    /// <summary>The same for a path known to be refused (<see cref="Advice(Exception, string?)"/>).</summary>
    public static string Advice(string path, string? root = null)
    {
        if (OperatingSystem.IsWindows()) return "";
        string? at = path;
        uint uid;
        int mode;
        while (!Hashing.Statx.TryOwner(at, out uid, out mode))
            if ((at = Path.GetDirectoryName(at)) is null) return "";
        // Ours, or the group may write it: then the folder it is in (a rename or delete there is refused by the folder's mode).
        if ((uid == GetEuid() || (mode & 0b010_000) != 0)
            && ((at = Path.GetDirectoryName(at)) is null || !Hashing.Statx.TryOwner(at, out uid, out mode) || uid == GetEuid() || (mode & 0b010_000) != 0))
            return ""; // not a umask's doing
        var folder = root ?? (Directory.Exists(at) ? at : Path.GetDirectoryName(at)!);
        return $" '{at}' belongs to {UserName(uid)} and its group may not write it (mode {Convert.ToString(mode & 0x1FF, 8)}): in a folder a group shares, a member built with umask 022, not 002. "
            + $"That member (or an admin) fixes it with `chmod -R g+w '{folder}'`, and sets `umask 002` before building (in ~/.bashrc).";
    }

    /// <summary>.NET names the path of a refused access in single quotes.</summary>
    [GeneratedRegex("'([^']+)'")]
    private static partial Regex QuotedPath();

    [LibraryImport("libc", EntryPoint = "geteuid")]
    private static partial uint GetEuid();

    [LibraryImport("libc", EntryPoint = "getpwuid")]
    private static partial nint GetPwUid(uint uid);

    /// <summary>"user NAME (uid N)", or "uid N" where no account has it (a numeric id, as in a container).</summary>
    private static unsafe string UserName(uint uid)
    {
        try
        {
            var pw = GetPwUid(uid);
            if (pw != 0 && Marshal.PtrToStringUTF8(*(nint*)pw) is { Length: > 0 } name) return $"user {name} (uid {uid})";
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException) { }
        return $"uid {uid}";
    }
}
