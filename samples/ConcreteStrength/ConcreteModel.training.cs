using System.IO;
using Microsoft.ML;
using Microsoft.ML.DynMoE;

namespace ConcreteStrength;

public partial class ConcreteModel
{
    public const string RetrainFilePath = @"samples/data/concrete/data.csv";
    public const char RetrainSeparatorChar = ',';
    public const bool RetrainHasHeader = true;
    public const bool RetrainAllowQuoting = false;

    /// <summary>Trains a model on a CSV file and saves it to <paramref name="outputModelPath"/>.</summary>
    public static void Train(string outputModelPath, DynMoERegressionTrainer.Options trainerOptions, string inputDataFilePath = RetrainFilePath,
        char separatorChar = RetrainSeparatorChar, bool hasHeader = RetrainHasHeader, bool allowQuoting = RetrainAllowQuoting)
    {
        var mlContext = new MLContext(seed: 1);
        var data = LoadIDataViewFromFile(mlContext, inputDataFilePath, separatorChar, hasHeader, allowQuoting);
        var model = RetrainModel(mlContext, data, trainerOptions);
        SaveModel(mlContext, model, data, outputModelPath);
    }

    /// <summary>Loads the CSV with the <see cref="ModelInput"/> schema.</summary>
    public static IDataView LoadIDataViewFromFile(MLContext mlContext, string inputDataFilePath, char separatorChar, bool hasHeader, bool allowQuoting)
        => mlContext.Data.LoadFromTextFile<ModelInput>(inputDataFilePath, separatorChar, hasHeader, allowQuoting: allowQuoting);

    /// <summary>Saves the model with the input schema, as Model Builder does (a <c>.mlnet</c> file is an ML.NET model zip).</summary>
    public static void SaveModel(MLContext mlContext, ITransformer model, IDataView data, string modelSavePath)
    {
        DataViewSchema dataViewSchema = data.Schema;
        using var stream = File.Create(modelSavePath);
        mlContext.Model.Save(model, dataViewSchema, stream);
    }

    /// <summary>Fits <see cref="BuildPipeline"/> on <paramref name="trainData"/>.</summary>
    public static ITransformer RetrainModel(MLContext mlContext, IDataView trainData, DynMoERegressionTrainer.Options trainerOptions)
    {
        var pipeline = BuildPipeline(mlContext, trainerOptions);
        return pipeline.Fit(trainData);
    }

    /// <summary>
    /// The training pipeline: the mix proportions and the age become the feature vector and DynMoE regresses the
    /// strength (MPa). No normaliser: features are standardised inside the model.
    /// </summary>
    public static IEstimator<ITransformer> BuildPipeline(MLContext mlContext, DynMoERegressionTrainer.Options trainerOptions)
    {
        trainerOptions.LabelColumnName = @"Label";
        trainerOptions.FeatureColumnName = @"Features";
        var pipeline = mlContext.Transforms.Concatenate(@"Features", new[] {
                @"cement", @"blast_furnace_slag", @"fly_ash", @"water",
                @"superplasticizer", @"coarse_aggregate", @"fine_aggregate", @"age" })
            .Append(mlContext.Regression.Trainers.DynMoE(trainerOptions));
        return pipeline;
    }
}
