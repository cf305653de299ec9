namespace KdGat.Core.IO;

/// <summary>
/// Whether a journal found in a folder was written there or came with a copy of the tree (cp -a or
/// rsync to another place while an attempt or a generator ran): its processes and SLURM job then write
/// into the tree it was copied from, and stopping them from the copy killed the original's work (a
/// review). A journal records the folder's inode and full path as it is written; a copy has another of
/// both. A tree moved in one piece keeps its inodes (its processes' working directories moved with
/// it), and one moved to another file system and linked back, or restored from a backup, keeps its
/// path (a process writing by absolute path writes into it): neither is a copy.
/// </summary>
internal static class TreeCopy
{
    /// <summary>What a journal records of the folder it is written in: its inode (null without statx) and full path.</summary>
    public static (ulong? Inode, string Path) Of(string folder) => (Hashing.Statx.DirectoryInode(folder), Path.GetFullPath(folder));

    /// <summary>The folder's inode and path both differ from what its journal recorded (nothing recorded: written in place).</summary>
    public static bool CameWithACopy(string folder, ulong? recordedInode, string? recordedPath) =>
        recordedInode is { } then && recordedPath is { Length: > 0 } was && was != Path.GetFullPath(folder)
        && Hashing.Statx.DirectoryInode(folder) is { } now && now != then;
}
