using System.Globalization;

namespace KdGat.Sample.Data;

/// <summary>
/// CAN arbitration IDs as the raw CSV writes them: hex digits only (no "0x", no sign, any case),
/// the way candump and the public captures do. The digit count says the frame format:
/// 1-4 digits is a standard frame, value at most 0x7FF (11 bits; four digits allow the
/// zero-padded "0316" of the HCRL captures); 5-8 digits is an extended frame, value at most
/// 0x1FFFFFFF (29 bits). Anything else is rejected.
///
/// A decimal ID cannot always be told from hex ("500" is valid either way), but every 4-digit
/// decimal ID (1000-2047) reads as a hex value above 0x7FF and is rejected, which is how a
/// capture exported with decimal IDs shows up. Extended IDs carry bit 31 (as SocketCAN's
/// CAN_EFF_FLAG does), so standard 0x123 and extended 0x00000123 are different nodes.
/// </summary>
internal static class ArbitrationId
{
    public const uint MaxStandard = 0x7FF;
    public const uint MaxExtended = 0x1FFF_FFFF;
    public const uint ExtendedFlag = 0x8000_0000;

    public const string Rule = "write IDs as hex: 1-4 digits for an 11-bit standard ID (at most 7FF), 5-8 digits for a 29-bit extended ID (at most 1FFFFFFF)";

    /// <summary>Parses <paramref name="text"/>; on failure says what is wrong with it.</summary>
    public static bool TryParse(string text, out uint id, out string problem)
    {
        id = 0;
        problem = "";
        if (text.Length is 0 or > 8 || !text.All(char.IsAsciiHexDigit)
            || !uint.TryParse(text, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
        {
            problem = $"arbitration_id '{(text.Length <= 12 ? text : text[..12] + "...")}' is not 1-8 hex digits";
            return false;
        }
        if (text.Length <= 4)
        {
            if (value > MaxStandard)
            {
                problem = $"arbitration_id '{text}' is 0x{value:X}, above the 11-bit maximum 0x7FF (a decimal ID?)";
                return false;
            }
            id = value;
            return true;
        }
        if (value > MaxExtended)
        {
            problem = $"arbitration_id '{text}' is above the 29-bit maximum 0x1FFFFFFF (a decimal ID?)";
            return false;
        }
        id = value | ExtendedFlag;
        return true;
    }

    /// <summary>The form TryParse reads back to the same ID: 3 digits standard, 8 extended.</summary>
    public static string Format(uint id) =>
        (id & ExtendedFlag) != 0
            ? (id & ~ExtendedFlag).ToString("X8", CultureInfo.InvariantCulture)
            : id.ToString("X3", CultureInfo.InvariantCulture);
}
