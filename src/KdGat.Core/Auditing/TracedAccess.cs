namespace KdGat.Core.Auditing;

/// <summary>Read: the content (or, for a listing, the entries) was looked at. Write: the file was created, changed, renamed or removed.</summary>
internal enum AccessKind { Read, Write }

/// <summary>
/// One successful file system call of a traced stage, with the path made absolute (lexically:
/// '.' and '..' resolved, symbolic links not followed, so it reads as the stage named it).
/// </summary>
/// <param name="Listing">A directory opened to list its entries (O_DIRECTORY), not a file's content.</param>
/// <param name="Created">A directory created (mkdir), which only matters when it is not a parent of the stage's own outputs.</param>
internal sealed record TracedAccess(int Pid, string Syscall, AccessKind Kind, string Path, bool Listing = false, bool Created = false);
