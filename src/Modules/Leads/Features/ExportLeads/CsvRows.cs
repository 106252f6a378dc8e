using System.Collections;
using System.Collections.ObjectModel;
using System.Data.Common;
using System.Globalization;
using Kernel.Http;
using Kernel.Ids;
using Modules.Leads.Public;
using Npgsql;

namespace Modules.Leads.Features.ExportLeads;

/// <summary>
/// The export's rows as CSV cells, for Sylvan's <c>CsvDataWriter</c>: reads the sequential Npgsql reader one row at a
/// time (each column once, in order, as the sequential mode requires), formats it (TypeID, ISO timestamp,
/// true/false) and neutralises formula-like text. Only the current row is held, so memory does not grow with the
/// export. Sylvan may ask for a cell more than once (when its buffer fills mid-row), which is why the row is copied
/// here instead of handing Sylvan the sequential reader itself.
/// </summary>
internal sealed class CsvRows(NpgsqlDataReader source) : DbDataReader, IDbColumnSchemaGenerator
{
    public static readonly string[] Columns =
        ["id", "email", "firstName", "lastName", "phone", "company", "status", "score", "source", "assignedTo", "tags", "isDuplicate", "createdAt"];

    private static readonly string[] Scores = Enumerable.Range(0, 101).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    // Every cell is non-null text: saying so spares the CSV writer a null check per cell.
    private static readonly ReadOnlyCollection<DbColumn> Schema = Columns.Select((name, i) => (DbColumn)new TextColumn(name, i)).ToList().AsReadOnly();

    private readonly string[] _cells = new string[Columns.Length];

    public long Rows { get; private set; }

    public override async Task<bool> ReadAsync(CancellationToken ct)
    {
        if (!await source.ReadAsync(ct)) return false;
        _cells[0] = TypeId.Format(IdPrefix.Lead, await source.GetFieldValueAsync<Guid>(0, ct));
        for (var i = 1; i <= 5; i++) _cells[i] = CsvCells.Neutralise(await source.GetFieldValueAsync<string>(i, ct));
        _cells[6] = await source.GetFieldValueAsync<string>(6, ct);
        var score = await source.GetFieldValueAsync<short>(7, ct);
        _cells[7] = score is >= 0 and <= 100 ? Scores[score] : score.ToString(CultureInfo.InvariantCulture);
        for (var i = 8; i <= 10; i++) _cells[i] = CsvCells.Neutralise(await source.GetFieldValueAsync<string>(i, ct));
        _cells[11] = await source.GetFieldValueAsync<bool>(11, ct) ? "true" : "false";
        _cells[12] = (await source.GetFieldValueAsync<DateTime>(12, ct)).ToString(JsonConventions.TimestampFormat, CultureInfo.InvariantCulture);
        Rows++;
        return true;
    }

    public override bool Read() => throw new NotSupportedException("The export is read asynchronously only (ReadAsync).");

    public override int FieldCount => Columns.Length;
    public override string GetName(int ordinal) => Columns[ordinal];
    public override int GetOrdinal(string name) => Array.IndexOf(Columns, name);
    public override Type GetFieldType(int ordinal) => typeof(string);
    public override string GetDataTypeName(int ordinal) => "text";
    public override string GetString(int ordinal) => _cells[ordinal];
    public override object GetValue(int ordinal) => _cells[ordinal];
    public override bool IsDBNull(int ordinal) => false;

    public override int GetValues(object[] values)
    {
        var n = Math.Min(values.Length, _cells.Length);
        Array.Copy(_cells, values, n);
        return n;
    }

    public override object this[int ordinal] => _cells[ordinal];
    public override object this[string name] => _cells[GetOrdinal(name)];
    public override int Depth => 0;
    public override bool HasRows => true;
    public override bool IsClosed => false;
    public override int RecordsAffected => -1;
    public override bool NextResult() => false;
    public override IEnumerator GetEnumerator() => throw new NotSupportedException();

    public override bool GetBoolean(int ordinal) => throw NotText();
    public override byte GetByte(int ordinal) => throw NotText();
    public override long GetBytes(int ordinal, long dataOffset, byte[]? buffer, int bufferOffset, int length) => throw NotText();
    public override char GetChar(int ordinal) => throw NotText();
    public override long GetChars(int ordinal, long dataOffset, char[]? buffer, int bufferOffset, int length) => throw NotText();
    public override DateTime GetDateTime(int ordinal) => throw NotText();
    public override decimal GetDecimal(int ordinal) => throw NotText();
    public override double GetDouble(int ordinal) => throw NotText();
    public override float GetFloat(int ordinal) => throw NotText();
    public override Guid GetGuid(int ordinal) => throw NotText();
    public override short GetInt16(int ordinal) => throw NotText();
    public override int GetInt32(int ordinal) => throw NotText();
    public override long GetInt64(int ordinal) => throw NotText();

    public ReadOnlyCollection<DbColumn> GetColumnSchema() => Schema;

    private sealed class TextColumn : DbColumn
    {
        public TextColumn(string name, int ordinal)
        {
            ColumnName = name;
            ColumnOrdinal = ordinal;
            DataType = typeof(string);
            DataTypeName = "text";
            AllowDBNull = false;
        }
    }

    private static InvalidCastException NotText() => new("Every export cell is text.");
}
