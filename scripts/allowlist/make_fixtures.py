#!/usr/bin/env python3
"""Writes real model pickles with the pinned libraries (scripts/allowlist/requirements*.txt) into
crates/modelprov-cli/tests/fixtures/allowlist-models/{numpy1,numpy2}: each model pickled with
protocols 2 and 5 and dumped with joblib. tests/cli/scan_policy_cli.rs requires every one to scan
safe with the generated allowlist. Rerun after `generate.py` made the environments:

    target/allowlist/numpy2/bin/python scripts/allowlist/make_fixtures.py crates/modelprov-cli/tests/fixtures/allowlist-models/numpy2
    target/allowlist/numpy1/bin/python scripts/allowlist/make_fixtures.py crates/modelprov-cli/tests/fixtures/allowlist-models/numpy1

(GradientBoosting's estimators_ and pandas' column index, object arrays, are left out until object arrays are judged by their
content.)
"""
import sys, pickle, warnings, datetime, decimal, uuid, collections, pathlib
warnings.simplefilter("ignore")
import numpy as np, joblib, scipy.sparse as sp
out = pathlib.Path(sys.argv[1]); out.mkdir(parents=True, exist_ok=True)
from sklearn.datasets import make_classification
X, y = make_classification(n_samples=200, n_features=6, random_state=0)
models = {}
from sklearn import linear_model, ensemble, pipeline, preprocessing, svm, cluster, neural_network, neighbors, tree, decomposition, naive_bayes, gaussian_process, feature_extraction, calibration, impute, compose
models["logreg"] = linear_model.LogisticRegression().fit(X, y)
models["sgd"] = linear_model.SGDClassifier(random_state=np.random.RandomState(0)).fit(X, y)
models["rf"] = ensemble.RandomForestClassifier(n_estimators=3).fit(X, y)

models["hgb"] = ensemble.HistGradientBoostingClassifier(max_iter=3).fit(X, y)
models["iso"] = ensemble.IsolationForest(n_estimators=3).fit(X)
models["pipe"] = pipeline.make_pipeline(preprocessing.StandardScaler(), svm.SVC(probability=True)).fit(X, y)
models["kmeans"] = cluster.KMeans(3, n_init=1).fit(X)
models["mlp"] = neural_network.MLPClassifier(max_iter=5).fit(X, y)
models["knn"] = neighbors.KNeighborsClassifier(algorithm="kd_tree").fit(X, y)
models["balltree"] = neighbors.BallTree(X)
models["dtr"] = tree.DecisionTreeRegressor().fit(X, y)
models["pca"] = decomposition.PCA(2).fit(X)
models["nb"] = naive_bayes.GaussianNB().fit(X, y)
models["gp"] = gaussian_process.GaussianProcessClassifier().fit(X[:50], y[:50])
models["tfidf"] = feature_extraction.text.TfidfVectorizer().fit(["a b c", "b c d", "hello world"])
models["calib"] = calibration.CalibratedClassifierCV(linear_model.LogisticRegression(), cv=2).fit(X, y)
models["ct"] = compose.ColumnTransformer([("s", preprocessing.StandardScaler(), [0, 1]), ("o", preprocessing.OneHotEncoder(), [2])]).fit(X.round())
models["imp"] = impute.SimpleImputer().fit(X)
models["csr"] = sp.csr_matrix(np.eye(3))
models["coo"] = sp.coo_matrix(np.eye(3))
models["stdlib"] = {"when": datetime.datetime(2026, 12, 2, 1, 0), "d": datetime.date(2026, 12, 2), "td": datetime.timedelta(3), "dec": decimal.Decimal("1.5"), "u": uuid.UUID(int=12), "od": collections.OrderedDict(a=1), "dd": collections.defaultdict(list), "s": {1, 2}, "fs": frozenset([1]), "c": 1j, "b": b"x", "ba": bytearray(b"y"), "dq": collections.deque([1]), "cnt": collections.Counter("ab")}
models["npscalars"] = {"f": np.float32(1), "i": np.int64(3), "a": np.arange(5), "s": np.array(["x"]), "rec": np.zeros(2, dtype=[("a", "f4"), ("b", "i8")]), "rng": np.random.default_rng(0), "rs": np.random.RandomState(1)}
try:
    import gensim
    from gensim.models import Word2Vec, FastText, Doc2Vec
    from gensim.models.doc2vec import TaggedDocument
    from gensim.corpora import Dictionary
    sents = [["a", "b", "c"], ["b", "c", "d"]] * 5
    models["w2v"] = Word2Vec(sents, vector_size=4, min_count=1, workers=1)
    models["ft"] = FastText(sents, vector_size=4, min_count=1, workers=1, bucket=64)
    models["d2v"] = Doc2Vec([TaggedDocument(s, [i]) for i, s in enumerate(sents)], vector_size=4, min_count=1, workers=1)
    models["kv"] = models["w2v"].wv
    models["dict"] = Dictionary(sents)
    from gensim.models import LdaModel, TfidfModel
    corpus = [models["dict"].doc2bow(s) for s in sents]
    models["lda"] = LdaModel(corpus, num_topics=2, id2word=models["dict"])
    models["tfidfg"] = TfidfModel(corpus)
except ImportError: pass
try:
    import sklearn_crfsuite
    crf = sklearn_crfsuite.CRF(max_iterations=2); crf.fit([[{"w": "a"}, {"w": "b"}]], [["X", "Y"]]); models["crf"] = crf
except ImportError: pass
try:
    import xgboost
    models["xgb"] = xgboost.XGBClassifier(n_estimators=2).fit(X, y)
    models["xgbbooster"] = models["xgb"].get_booster()
except ImportError: pass
try:
    import lightgbm
    models["lgbm"] = lightgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit(X, y)
except ImportError: pass
try:
    import omegaconf
    models["omegaconf"] = {"hparams": omegaconf.OmegaConf.create({"lr": 0.1, "layers": [1, 2], "nested": {"a": None, "p": "${lr}"}})}
    from omegaconf import ListConfig
except ImportError: pass
n = 0
for name, m in models.items():
    for proto in (2, 5):
        with open(out / f"{name}.p{proto}.pkl", "wb") as f:
            pickle.dump(m, f, protocol=proto)
        n += 1
    joblib.dump(m, out / f"{name}.joblib")
    n += 1
print(n, "files")
