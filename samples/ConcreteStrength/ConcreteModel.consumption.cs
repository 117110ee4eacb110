using System;
using System.IO;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace ConcreteStrength;

public partial class ConcreteModel
{
    /// <summary>Model input: one concrete mix (kg per m3 of each ingredient), its age in days, and its strength in MPa.</summary>
    #region model input class
    public class ModelInput
    {
        [LoadColumn(0)]
        [ColumnName(@"Label")]
        public float Label { get; set; }

        [LoadColumn(1)]
        [ColumnName(@"cement")]
        public float Cement { get; set; }

        [LoadColumn(2)]
        [ColumnName(@"blast_furnace_slag")]
        public float BlastFurnaceSlag { get; set; }

        [LoadColumn(3)]
        [ColumnName(@"fly_ash")]
        public float FlyAsh { get; set; }

        [LoadColumn(4)]
        [ColumnName(@"water")]
        public float Water { get; set; }

        [LoadColumn(5)]
        [ColumnName(@"superplasticizer")]
        public float Superplasticizer { get; set; }

        [LoadColumn(6)]
        [ColumnName(@"coarse_aggregate")]
        public float CoarseAggregate { get; set; }

        [LoadColumn(7)]
        [ColumnName(@"fine_aggregate")]
        public float FineAggregate { get; set; }

        [LoadColumn(8)]
        [ColumnName(@"age")]
        public float Age { get; set; }
    }
    #endregion

    /// <summary>Model output: the input columns plus the features and the predicted strength (Score, MPa).</summary>
    #region model output class
    public class ModelOutput
    {
        [ColumnName(@"Label")]
        public float Label { get; set; }

        [ColumnName(@"cement")]
        public float Cement { get; set; }

        [ColumnName(@"blast_furnace_slag")]
        public float BlastFurnaceSlag { get; set; }

        [ColumnName(@"fly_ash")]
        public float FlyAsh { get; set; }

        [ColumnName(@"water")]
        public float Water { get; set; }

        [ColumnName(@"superplasticizer")]
        public float Superplasticizer { get; set; }

        [ColumnName(@"coarse_aggregate")]
        public float CoarseAggregate { get; set; }

        [ColumnName(@"fine_aggregate")]
        public float FineAggregate { get; set; }

        [ColumnName(@"age")]
        public float Age { get; set; }

        [ColumnName(@"Features")]
        public float[] Features { get; set; } = Array.Empty<float>();

        [ColumnName(@"Score")]
        public float Score { get; set; }
    }
    #endregion

    /// <summary>Where <see cref="PredictEngine"/> loads the model from; set it before the first prediction.</summary>
    public static string MLNetModelPath { get; set; } = Path.GetFullPath("ConcreteModel.mlnet");

    /// <summary>
    /// Created once, on first use, thread-safely. A <see cref="PredictionEngine{TSrc,TDst}"/> itself serves one thread at a
    /// time; for a web server use <c>PredictionEnginePool</c> from Microsoft.Extensions.ML.
    /// </summary>
    public static readonly Lazy<PredictionEngine<ModelInput, ModelOutput>> PredictEngine = new(() => CreatePredictEngine(), true);

    private static PredictionEngine<ModelInput, ModelOutput> CreatePredictEngine()
    {
        var mlContext = new MLContext();
        ITransformer mlModel = mlContext.Model.Load(MLNetModelPath, out _);
        return mlContext.Model.CreatePredictionEngine<ModelInput, ModelOutput>(mlModel);
    }

    /// <summary>Predicts the compressive strength (MPa) of one mix.</summary>
    public static ModelOutput Predict(ModelInput input) => PredictEngine.Value.Predict(input);
}
