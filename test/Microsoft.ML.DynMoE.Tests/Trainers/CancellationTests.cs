using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.VisualStudio.TestTools.UnitTesting;

namespace Microsoft.ML.DynMoE.Tests.Trainers;

/// <summary>Cancellation stops Fit promptly wherever it happens: the first data pass, the middle of an epoch, routing measurement.</summary>
[TestClass]
public sealed class CancellationTests
{
    private sealed class Row
    {
        public bool Label { get; set; }
        [VectorType(4)] public float[] Features { get; set; } = new float[4];
    }

    /// <summary>Rows read lazily; cancels the token at row <c>cancelAtRow</c> of pass <c>cancelInPass</c> and counts the rows read after that.</summary>
    private sealed class CancellingRows : IEnumerable<Row>
    {
        private readonly CancellationTokenSource _source;
        private readonly int _rows, _cancelInPass, _cancelAtRow;
        private int _pass;

        public CancellingRows(CancellationTokenSource source, int rows, int cancelInPass, int cancelAtRow)
            => (_source, _rows, _cancelInPass, _cancelAtRow) = (source, rows, cancelInPass, cancelAtRow);

        public int RowsAfterCancellation { get; private set; }

        public IEnumerator<Row> GetEnumerator()
        {
            int pass = ++_pass;
            var random = new Random(1);
            for (int i = 0; i < _rows; i++)
            {
                if (_source.IsCancellationRequested)
                    RowsAfterCancellation++;
                if (pass == _cancelInPass && i == _cancelAtRow)
                    _source.Cancel();
                var features = Enumerable.Range(0, 4).Select(_ => (float)random.NextDouble()).ToArray();
                yield return new Row { Label = features[0] + features[1] > 1, Features = features };
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    // Streaming re-reads the data each epoch: pass 1 reads the statistics, passes 2 and 3 are the epochs, pass 4 measures routing.
    [TestMethod]
    [DataRow(1, DisplayName = "first data pass")]
    [DataRow(2, DisplayName = "middle of the first epoch")]
    [DataRow(3, DisplayName = "middle of the last epoch")]
    [DataRow(4, DisplayName = "routing measurement")]
    public void CancellationStopsFitWithinAThousandRows(int pass)
    {
        var ml = new MLContext(seed: 1);
        using var source = new CancellationTokenSource();
        var rows = new CancellingRows(source, 3000, pass, 1500);
        var options = new DynMoEBinaryTrainer.Options
        {
            NumberOfEpochs = 2, ModelDimension = 8, ExpertHiddenDimension = 8, BatchSize = 64, MaximumCacheBytes = 0, CancellationToken = source.Token,
        };
        Assert.ThrowsExactly<OperationCanceledException>(() => ml.BinaryClassification.Trainers.DynMoE(options).Fit(ml.Data.LoadFromEnumerable(rows)));
        Assert.IsTrue(source.IsCancellationRequested, "the cancellation point was reached");
        Assert.IsLessThanOrEqualTo(1024, rows.RowsAfterCancellation, "rows read after cancellation");
    }
}
