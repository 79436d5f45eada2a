import attain


def test_sample_company_loads(sample_company):
    assert len(sample_company.org) == 330
    assert attain.__version__
