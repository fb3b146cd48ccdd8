using System.Buffers.Binary;
using System.Buffers.Text;
using System.Text;
using Realtime.Server.Errors;
using Realtime.Server.Groups;

namespace Realtime.Server.Search;

/// <summary>Where a page of SearchGroups ended: prefix matches (rank 0) come before other matches (rank 1), each by lowered name, then gid.</summary>
public readonly record struct SearchPosition(int Rank, string Name, long Gid);

/// <summary>The pure rules of search (SPEC §9): arguments, LIKE escaping and the opaque cursor.</summary>
public static class SearchRules
{
    public const int QueryMax = 64;
    public const int GroupsLimitMax = 50;
    public const int GroupsLimitDefault = 20;
    public const int MembersLimitMax = 100;
    public const int MembersLimitDefault = 20;

    /// <summary>A query: 1–64 characters (code points), taken as typed.</summary>
    public static string Query(string? query)
    {
        if (string.IsNullOrEmpty(query)) throw RealtimeException.Invalid("query", "must not be empty");
        if (Validate.CodePoints(query) > QueryMax) throw RealtimeException.Invalid("query", $"must be at most {QueryMax} characters");
        return query;
    }

    public static int Limit(int? limit, int max, int defaultLimit) =>
        (limit ?? defaultLimit) is var l && l >= 1 && l <= max ? l : throw RealtimeException.Invalid("limit", $"must be 1-{max}");

    /// <summary>The query as a LIKE pattern fragment: its own '%', '_' and '\' match themselves.</summary>
    public static string EscapeLike(string query) =>
        query.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    public static string Encode(SearchPosition p)
    {
        var name = Encoding.UTF8.GetBytes(p.Name);
        var bytes = new byte[1 + 8 + name.Length];
        bytes[0] = (byte)p.Rank;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1), p.Gid);
        name.CopyTo(bytes, 9);
        return Base64Url.EncodeToString(bytes);
    }

    /// <summary>The position a cursor names; anything that is not one of ours is InvalidArgument.</summary>
    public static SearchPosition? Decode(string? cursor)
    {
        if (cursor is null) return null;
        byte[] bytes;
        try
        {
            bytes = cursor.Length is > 0 and <= 1024 ? Base64Url.DecodeFromChars(cursor) : [];
        }
        catch (FormatException)
        {
            bytes = [];
        }
        if (bytes.Length < 9 || bytes[0] > 1) throw RealtimeException.Invalid("cursor", "is not a cursor of this search");
        var gid = BinaryPrimitives.ReadInt64BigEndian(bytes.AsSpan(1));
        string name;
        try
        {
            name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, 9, bytes.Length - 9);
        }
        catch (ArgumentException)
        {
            throw RealtimeException.Invalid("cursor", "is not a cursor of this search");
        }
        if (gid <= 0 || name.Contains('\0')) throw RealtimeException.Invalid("cursor", "is not a cursor of this search");
        return new SearchPosition(bytes[0], name, gid);
    }
}
