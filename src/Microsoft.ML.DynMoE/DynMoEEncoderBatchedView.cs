using Microsoft.ML.DynMoE.Inference;
using Microsoft.ML.DynMoE.Sequence;
using Microsoft.ML.Model;
using Microsoft.ML.Model.OnnxConverter;
using Microsoft.ML.Model.Pfa;

namespace Microsoft.ML.DynMoE;

/// <summary>
/// What <see cref="DynMoEEncoderTransformer.Transform"/> returns: the row-by-row view ML.NET builds (schema, saving, ONNX
/// export, row mapping, shuffled cursors all go to it), except that a cursor in the data's own order that reads a score
/// column scores its rows in blocks. Such a cursor runs a second cursor over the input ahead of it, which reads the next
/// <see cref="BlockRows"/> rows' inputs; the block is scored by one <see cref="ICompiledSequenceEncoder.ForwardBatch"/>
/// (rows packed into shared matrix products), and the rows are then served from the block. Each row's scores are
/// bit-for-bit those of the row-by-row path. A prediction engine does not come here: it maps one row at a time.
/// </summary>
internal sealed class DynMoEEncoderBatchedView : IDataTransform, IRowToRowMapper, ITransformCanSaveOnnx, ITransformCanSavePfa, ITransformTemplate
{
    /// <summary>Rows scored per block.</summary>
    internal const int BlockRows = 16;

    /// <summary>Tokens one pass of the encoder packs beyond its first row: large enough for full matrix products, small enough for the cache.</summary>
    internal const int PassTokens = 512;

    private readonly RowToRowMapperTransform _rowByRow;
    private readonly DynMoEEncoderModelParameters _model;

    public DynMoEEncoderBatchedView(RowToRowMapperTransform rowByRow, DynMoEEncoderModelParameters model)
    {
        _rowByRow = rowByRow;
        _model = model;
    }

    private IDataView RowByRow => _rowByRow;

    public IDataView Source => ((IDataTransform)_rowByRow).Source;

    public DataViewSchema Schema => RowByRow.Schema;

    public bool CanShuffle => RowByRow.CanShuffle;

    public long? GetRowCount() => RowByRow.GetRowCount();

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
    {
        var needed = columnsNeeded.ToList();
        int inputCount = Source.Schema.Count;
        bool scores = needed.Any(c => c.Index >= inputCount);
        // A shuffled order cannot be replayed by a second cursor; such cursors, and those that read no score, stay row by row.
        if (!scores || rand is not null)
            return RowByRow.GetRowCursor(needed, rand);
        var passThrough = Source.Schema.Where(c => needed.Any(n => n.Index == c.Index)).ToList();
        var modelInputs = _model.Input.ColumnNames.Select(n => Source.Schema[n]).ToList();
        var rows = Source.GetRowCursor(passThrough);
        DataViewRowCursor? ahead = null;
        try
        {
            ahead = Source.GetRowCursor(modelInputs);
            return new Cursor(this, rows, ahead, needed);
        }
        catch
        {
            ahead?.Dispose();
            rows.Dispose();
            throw;
        }
    }

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
        => new[] { GetRowCursor(columnsNeeded, rand) };

    void ICanSaveModel.Save(ModelSaveContext ctx) => ((ICanSaveModel)_rowByRow).Save(ctx);

    // Row mapping, ONNX, PFA and re-application are the row-by-row view's.
    DataViewSchema IRowToRowMapper.InputSchema => ((IRowToRowMapper)_rowByRow).InputSchema;

    DataViewSchema IRowToRowMapper.OutputSchema => ((IRowToRowMapper)_rowByRow).OutputSchema;

    IEnumerable<DataViewSchema.Column> IRowToRowMapper.GetDependencies(IEnumerable<DataViewSchema.Column> dependingColumns)
        => ((IRowToRowMapper)_rowByRow).GetDependencies(dependingColumns);

    DataViewRow IRowToRowMapper.GetRow(DataViewRow input, IEnumerable<DataViewSchema.Column> activeColumns)
        => ((IRowToRowMapper)_rowByRow).GetRow(input, activeColumns);

    bool ICanSaveOnnx.CanSaveOnnx(OnnxContext ctx) => ((ICanSaveOnnx)_rowByRow).CanSaveOnnx(ctx);

    void ISaveAsOnnx.SaveAsOnnx(OnnxContext ctx) => ((ISaveAsOnnx)_rowByRow).SaveAsOnnx(ctx);

    bool ICanSavePfa.CanSavePfa => ((ICanSavePfa)_rowByRow).CanSavePfa;

    void ISaveAsPfa.SaveAsPfa(BoundPfaContext ctx) => ((ISaveAsPfa)_rowByRow).SaveAsPfa(ctx);

    IDataTransform ITransformTemplate.ApplyToData(IHostEnvironment env, IDataView newSource)
        => new DynMoEEncoderBatchedView((RowToRowMapperTransform)((ITransformTemplate)_rowByRow).ApplyToData(env, newSource), _model);

    /// <summary>Input columns from the source cursor; score columns from the block the look-ahead cursor filled.</summary>
    private sealed class Cursor : DataViewRowCursor
    {
        private readonly DynMoEEncoderBatchedView _parent;
        private readonly DataViewRowCursor _rows;
        private readonly DataViewRowCursor _ahead;
        private readonly SequenceRowReader _reader;
        private readonly ICompiledSequenceEncoder _encoder;
        private readonly object _scratch;
        private readonly float[][] _inputs;
        private readonly ReadOnlyMemory<float>[] _block;
        private readonly float[] _outputs;
        private readonly float[] _logits;
        private readonly Delegate?[] _getters;
        private readonly bool[] _active;
        private int _filled, _served;
        private bool _disposed;

        public Cursor(DynMoEEncoderBatchedView parent, DataViewRowCursor rows, DataViewRowCursor ahead, IReadOnlyList<DataViewSchema.Column> needed)
        {
            _parent = parent;
            _rows = rows;
            _ahead = ahead;
            var model = parent._model;
            _reader = model.Input.CreateReader(ahead);
            _encoder = model.Encoder;
            _scratch = _encoder.CreateBatchScratch(BlockRows, PassTokens);
            _inputs = Enumerable.Range(0, BlockRows).Select(_ => new float[model.Input.MaximumWidth]).ToArray();
            _block = new ReadOnlyMemory<float>[BlockRows];
            int o = model.OutputCount;
            _outputs = new float[BlockRows * o];
            _logits = new float[o];
            _active = new bool[parent.Schema.Count];
            foreach (var column in needed)
                _active[column.Index] = true;
            int inputCount = parent.Source.Schema.Count;
            _getters = new Delegate?[parent.Schema.Count - inputCount];
            for (int i = 0; i < _getters.Length; i++)
            {
                if (_active[inputCount + i])
                    _getters[i] = model.Task.MakeGetter(i, () => _logits);
            }
        }

        public override DataViewSchema Schema => _parent.Schema;

        public override long Position => _rows.Position;

        public override long Batch => _rows.Batch;

        public override bool IsColumnActive(DataViewSchema.Column column) => _active[column.Index];

        public override ValueGetter<DataViewRowId> GetIdGetter() => _rows.GetIdGetter();

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!_active[column.Index])
                throw new InvalidOperationException($"Column '{column.Name}' was not requested by this cursor.");
            int inputCount = _parent.Source.Schema.Count;
            if (column.Index < inputCount)
                return _rows.GetGetter<TValue>(column);
            return _getters[column.Index - inputCount] as ValueGetter<TValue>
                ?? throw new InvalidOperationException($"Column '{column.Name}' has type {column.Type}, not {typeof(TValue)}.");
        }

        public override bool MoveNext()
        {
            if (!_rows.MoveNext())
                return false;
            if (_served == _filled)
                Fill();
            int o = _logits.Length;
            _outputs.AsSpan(_served * o, o).CopyTo(_logits);
            _served++;
            return true;
        }

        /// <summary>Reads up to a block of rows ahead and scores them at once.</summary>
        private void Fill()
        {
            _filled = _served = 0;
            while (_filled < BlockRows && _ahead.MoveNext())
            {
                var input = _inputs[_filled];
                Array.Clear(input);
                int length = _reader(input);
                _block[_filled] = input.AsMemory(0, length);
                _filled++;
            }

            if (_filled == 0)
                throw new InvalidOperationException("The input yielded fewer rows to the scoring look-ahead than to the cursor; its row order must be repeatable.");
            _encoder.ForwardBatch(new ArraySegment<ReadOnlyMemory<float>>(_block, 0, _filled), _outputs, _scratch);
        }

        protected override void Dispose(bool disposing)
        {
            if (_disposed)
                return;
            if (disposing)
            {
                _rows.Dispose();
                _ahead.Dispose();
            }

            _disposed = true;
            base.Dispose(disposing);
        }
    }
}
