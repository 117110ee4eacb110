using System;
using System.Collections.Generic;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Microsoft.ML.DynMoE.PerformanceTests;

/// <summary>
/// A structured synthetic multiclass set generated on the fly (nothing held in memory): 10 classes, each a Gaussian
/// blob around its own centre with a class-specific nonlinear warp, 50 features. Row i is a pure function of i, so
/// any number of rows can be streamed and every pass sees the same data.
/// </summary>
public sealed class SyntheticClassificationData : IDataView
{
    public const int Classes = 10;
    public const int FeatureCount = 50;

    private readonly long _rows;
    private readonly float[] _centres;

    public SyntheticClassificationData(long rows)
    {
        _rows = rows;
        var random = new Random(123);
        _centres = new float[Classes * FeatureCount];
        for (int i = 0; i < _centres.Length; i++)
            _centres[i] = (float)(random.NextDouble() * 4 - 2);
        var builder = new DataViewSchema.Builder();
        builder.AddColumn("Label", new KeyDataViewType(typeof(uint), Classes));
        builder.AddColumn("Features", new VectorDataViewType(NumberDataViewType.Single, FeatureCount));
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;

    public DataViewSchema Schema { get; }

    public long? GetRowCount() => _rows;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => new Cursor(this);

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };

    private void Fill(long row, out uint label, Span<float> features)
    {
        ulong state = (ulong)row * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E5UL;
        int c = (int)(Next(ref state) % Classes);
        label = (uint)c + 1;
        for (int j = 0; j < FeatureCount; j++)
        {
            // Box-Muller from two uniforms.
            double u1 = (Next(ref state) >> 11) * (1.0 / (1UL << 53)) + 1e-12, u2 = (Next(ref state) >> 11) * (1.0 / (1UL << 53));
            double noise = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            features[j] = _centres[c * FeatureCount + j] + (float)(0.9 * noise);
        }
        for (int j = 0; j < FeatureCount; j += 2)
            features[j] += (float)Math.Sin((c + 1) * features[j + 1]);
    }

    private static ulong Next(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private sealed class Cursor : DataViewRowCursor
    {
        private readonly SyntheticClassificationData _parent;
        private readonly float[] _features = new float[FeatureCount];
        private uint _label;
        private long _position = -1;

        public Cursor(SyntheticClassificationData parent) => _parent = parent;

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _position;

        public override long Batch => 0;

        public override bool MoveNext()
        {
            if (_position + 1 >= _parent._rows)
                return false;
            _position++;
            _parent.Fill(_position, out _label, _features);
            return true;
        }

        public override bool IsColumnActive(DataViewSchema.Column column) => true;

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (column.Index == 0)
            {
                ValueGetter<uint> label = (ref uint value) => value = _label;
                return (ValueGetter<TValue>)(Delegate)label;
            }
            ValueGetter<VBuffer<float>> features = (ref VBuffer<float> value) =>
            {
                var editor = VBufferEditor.Create(ref value, FeatureCount);
                _features.CopyTo(editor.Values);
                value = editor.Commit();
            };
            return (ValueGetter<TValue>)(Delegate)features;
        }

        public override ValueGetter<DataViewRowId> GetIdGetter()
            => (ref DataViewRowId value) => value = new DataViewRowId((ulong)_position, 0);
    }
}
