using Realtime.Server.Errors;

namespace Realtime.Server.Groups;

/// <summary>The field rules of SPEC §3, each failing with InvalidArgument naming the field.</summary>
public static class Validate
{
    public const int NameMax = 128;
    public const int IntroductionMax = 512;
    public const int NotificationMax = 1024;
    public const int FaceUrlMax = 512;
    public const int GroupCustomMax = 1024;
    public const int MemberCustomMax = 512;
    public const int NameCardMax = 64;
    public const int BatchUsersMax = 100;
    public const int MessageTextMax = 4000;
    public const int MessagePayloadMaxBytes = 8 * 1024;
    public const int PendingMessageMax = 256;
    public const int RequestIdMax = 64;

    /// <summary>Lengths count Unicode code points, not UTF-16 units.</summary>
    public static int CodePoints(string s) => s.EnumerateRunes().Count();

    public static string Name(string? raw, string field = "name")
    {
        var name = raw?.Trim() ?? "";
        if (name.Length == 0) throw RealtimeException.Invalid(field, "must not be empty");
        if (CodePoints(name) > NameMax) throw RealtimeException.Invalid(field, $"must be at most {NameMax} characters");
        if (name.Contains('/')) throw RealtimeException.Invalid(field, "must not contain '/'");
        return name;
    }

    public static string MaxLength(string? value, int max, string field)
    {
        value ??= "";
        if (CodePoints(value) > max) throw RealtimeException.Invalid(field, $"must be at most {max} characters");
        return value;
    }

    public static string FaceUrl(string? value, string field = "faceUrl")
    {
        value = MaxLength(value, FaceUrlMax, field);
        if (value.Length == 0) return value;
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw RealtimeException.Invalid(field, "must be an absolute http or https URL");
        return value;
    }

    public static string GroupId(string? value, string field = "groupId")
    {
        if (!Ids.IsValidGroupId(value)) throw RealtimeException.Invalid(field, "is not a valid group id");
        return value!;
    }

    public static string UserId(string? value, string field = "userId")
    {
        if (!Ids.IsValidUserId(value)) throw RealtimeException.Invalid(field, "must be 1-64 chars of [A-Za-z0-9_.@-]");
        return value!;
    }

    /// <summary>A batch of user ids: each well formed, duplicates folded, count within [min, max].</summary>
    public static IReadOnlyList<string> UserIds(IReadOnlyList<string>? values, string field, int min = 1, int max = BatchUsersMax)
    {
        values ??= [];
        foreach (var v in values) UserId(v, field);
        var distinct = values.Distinct(StringComparer.Ordinal).ToList();
        if (distinct.Count < min || distinct.Count > max)
            throw RealtimeException.Invalid(field, $"must list {min} to {max} users");
        return distinct;
    }

    /// <summary>A requestId (or SendMessage's clientMsgId, which plays its role): absent, or 1–64 characters.</summary>
    public static string? RequestId(string? value, string field = "requestId")
    {
        if (value is null) return null;
        if (value.Length == 0 || CodePoints(value) > RequestIdMax) throw RealtimeException.Invalid(field, $"must be 1-{RequestIdMax} characters");
        return value;
    }

    public static int? MaxMembers(int? value, GroupTypeRules rules, string field = "maxMembers")
    {
        if (value is null) return rules.DefaultMaxMembers;
        if (value < 1) throw RealtimeException.Invalid(field, "must be at least 1");
        if (rules.MaxMaxMembers is { } max && value > max)
            throw RealtimeException.Invalid(field, $"must be at most {max} for a {rules.Type} group");
        return value;
    }

    public static (int Offset, int Limit) Page(int? offset, int? limit, int defaultLimit, int maxLimit)
    {
        var o = offset ?? 0;
        var l = limit ?? defaultLimit;
        if (o < 0) throw RealtimeException.Invalid("offset", "must not be negative");
        if (l < 1 || l > maxLimit) throw RealtimeException.Invalid("limit", $"must be 1-{maxLimit}");
        return (o, l);
    }
}
