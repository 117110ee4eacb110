namespace Microsoft.ML.DynMoE.Training
{
    /// <summary>The rows of a source view whose position is selected by a mask, in source order: a fold's training or test rows, or the rows a trainer keeps or holds out.</summary>
    internal sealed class RowSubsetDataView : IDataView
    {
        private readonly IDataView _source;
        private readonly bool[] _include;
        private readonly long _count;

        internal RowSubsetDataView(IDataView source, bool[] include)
        {
            _source = source;
            _include = include;
            _count = include.LongCount(v => v);
        }

        public bool CanShuffle => false;

        public DataViewSchema Schema => _source.Schema;

        public long? GetRowCount() => _count;

        public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null)
            => new Cursor(_source.GetRowCursor(columnsNeeded), _include);

        /// <summary>
        /// The row's position in the view this subset was cut from (for any other cursor, its own position): an error that
        /// names a row names the row of the data passed to Fit, not its place among the rows the trainer kept or held out.
        /// One level only: that data may itself be a subset (a fold), and its rows are what the caller counts.
        /// </summary>
        internal static long SourcePosition(DataViewRowCursor cursor) => cursor is Cursor subset ? subset.Inner.Position : cursor.Position;

        public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null)
            => new[] { GetRowCursor(columnsNeeded, rand) };

        private sealed class Cursor : DataViewRowCursor
        {
            private readonly DataViewRowCursor _inner;
            private readonly bool[] _include;
            private long _sourceRow = -1;
            private long _position = -1;

            internal Cursor(DataViewRowCursor inner, bool[] include)
            {
                _inner = inner;
                _include = include;
            }

            internal DataViewRowCursor Inner => _inner;

            public override DataViewSchema Schema => _inner.Schema;
            public override long Position => _position;
            public override long Batch => 0;

            public override bool MoveNext()
            {
                while (_inner.MoveNext())
                {
                    _sourceRow++;
                    if (_sourceRow >= _include.Length)
                        throw new InvalidOperationException($"The data view yielded more rows than the {_include.Length} its row selection was built for.");
                    if (_include[_sourceRow])
                    {
                        _position++;
                        return true;
                    }
                }
                return false;
            }

            public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column) => _inner.GetGetter<TValue>(column);
            public override ValueGetter<DataViewRowId> GetIdGetter() => _inner.GetIdGetter();
            public override bool IsColumnActive(DataViewSchema.Column column) => _inner.IsColumnActive(column);

            protected override void Dispose(bool disposing)
            {
                if (disposing)
                    _inner.Dispose();
                base.Dispose(disposing);
            }
        }
    }
}
