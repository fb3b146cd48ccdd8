using System.Buffers.Binary;
using System.Buffers.Text;
using Realtime.Server.Errors;

namespace Realtime.Server.Admin;

/// <summary>
/// The opaque cursor of `GET /chatgroups`: the last internal gid of a page, base64url. gids only
/// grow, so a keyset on them neither repeats nor skips a group that existed when paging began.
/// </summary>
public static class GroupCursor
{
    public static string Encode(long gid)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, gid);
        return Base64Url.EncodeToString(bytes);
    }

    public static long Decode(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return 0;
        Span<byte> bytes = stackalloc byte[9];
        var gid = cursor.Length == 11 && Base64Url.TryDecodeFromChars(cursor, bytes, out var written) && written == 8
            ? BinaryPrimitives.ReadInt64BigEndian(bytes)
            : 0;
        return gid > 0 ? gid : throw RealtimeException.Invalid("cursor", "is not a cursor of this listing");
    }
}
