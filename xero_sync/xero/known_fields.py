"""Top-level fields each Xero entity may carry (OpenAPI spec v16.1.0 plus the `...String`
twins Xero sends). A field outside these sets is reported as drift, not an error.

Generated from vendor/xero-openapi/xero_accounting.yaml by scripts/known_fields.py; do not edit.
"""

KNOWN_FIELDS: dict[str, frozenset[str]] = {
    "Invoice": frozenset(
        {
        'AmountCredited', 'AmountDue', 'AmountPaid', 'Attachments', 'BrandingThemeID',
        'CISDeduction', 'CISRate', 'Contact', 'CreditNotes', 'CurrencyCode', 'CurrencyRate',
        'Date', 'DateString', 'DueDate', 'DueDateString', 'ExpectedPaymentDate',
        'ExpectedPaymentDateString', 'FullyPaidOnDate', 'FullyPaidOnDateString',
        'HasAttachments', 'HasErrors', 'InvoiceAddresses', 'InvoiceID', 'InvoiceNumber',
        'IsDiscounted', 'LineAmountTypes', 'LineItems', 'Overpayments', 'Payments',
        'PlannedPaymentDate', 'PlannedPaymentDateString', 'Prepayments', 'Reference',
        'RepeatingInvoiceID', 'SentToContact', 'Status', 'StatusAttributeString',
        'SubTotal', 'Total', 'TotalDiscount', 'TotalTax', 'Type', 'UpdatedDateUTC',
        'UpdatedDateUTCString', 'Url', 'ValidationErrors', 'Warnings'
        }
    ),
    "Contact": frozenset(
        {
        'AccountNumber', 'AccountsPayableTaxType', 'AccountsReceivableTaxType', 'Addresses',
        'Attachments', 'Balances', 'BankAccountDetails', 'BatchPayments', 'BrandingTheme',
        'CompanyNumber', 'ContactGroups', 'ContactID', 'ContactNumber', 'ContactPersons',
        'ContactStatus', 'DefaultCurrency', 'Discount', 'EmailAddress', 'FirstName',
        'HasAttachments', 'HasValidationErrors', 'IsCustomer', 'IsSupplier', 'LastName',
        'MergedToContactID', 'Name', 'PaymentTerms', 'Phones',
        'PurchasesDefaultAccountCode', 'PurchasesDefaultLineAmountType',
        'PurchasesTrackingCategories', 'SalesDefaultAccountCode',
        'SalesDefaultLineAmountType', 'SalesTrackingCategories', 'StatusAttributeString',
        'TaxNumber', 'TaxNumberType', 'TrackingCategoryName', 'TrackingCategoryOption',
        'UpdatedDateUTC', 'UpdatedDateUTCString', 'ValidationErrors', 'Website',
        'XeroNetworkKey'
        }
    ),
    "Payment": frozenset(
        {
        'Account', 'Amount', 'BankAccountNumber', 'BankAmount', 'BatchPayment',
        'BatchPaymentID', 'Code', 'CreditNote', 'CreditNoteNumber', 'CurrencyRate', 'Date',
        'DateString', 'Details', 'HasAccount', 'HasValidationErrors', 'Invoice',
        'InvoiceNumber', 'IsReconciled', 'Overpayment', 'Particulars', 'PaymentID',
        'PaymentType', 'Prepayment', 'Reference', 'Status', 'StatusAttributeString',
        'UpdatedDateUTC', 'UpdatedDateUTCString', 'ValidationErrors', 'Warnings'
        }
    ),
    "CreditNote": frozenset(
        {
        'Allocations', 'AppliedAmount', 'BrandingThemeID', 'CISDeduction', 'CISRate',
        'Contact', 'CreditNoteID', 'CreditNoteNumber', 'CurrencyCode', 'CurrencyRate',
        'Date', 'DateString', 'DueDate', 'DueDateString', 'FullyPaidOnDate',
        'FullyPaidOnDateString', 'HasAttachments', 'HasErrors', 'InvoiceAddresses',
        'LineAmountTypes', 'LineItems', 'Payments', 'Reference', 'RemainingCredit',
        'SentToContact', 'Status', 'StatusAttributeString', 'SubTotal', 'Total', 'TotalTax',
        'Type', 'UpdatedDateUTC', 'UpdatedDateUTCString', 'ValidationErrors', 'Warnings'
        }
    ),
    "Account": frozenset(
        {
        'AccountID', 'AddToWatchlist', 'BankAccountNumber', 'BankAccountType', 'Class',
        'Code', 'CurrencyCode', 'Description', 'EnablePaymentsToAccount', 'HasAttachments',
        'Name', 'ReportingCode', 'ReportingCodeName', 'ShowInExpenseClaims', 'Status',
        'SystemAccount', 'TaxType', 'Type', 'UpdatedDateUTC', 'UpdatedDateUTCString',
        'ValidationErrors'
        }
    ),
    "Organisation": frozenset(
        {
        'APIKey', 'Addresses', 'BaseCurrency', 'Class', 'CountryCode', 'CreatedDateUTC',
        'DefaultPurchasesTax', 'DefaultSalesTax', 'Edition', 'EmployerIdentificationNumber',
        'EndOfYearLockDate', 'EndOfYearLockDateString', 'ExternalLinks',
        'FinancialYearEndDay', 'FinancialYearEndMonth', 'IsDemoCompany', 'LegalName',
        'LineOfBusiness', 'Name', 'OrganisationEntityType', 'OrganisationID',
        'OrganisationStatus', 'OrganisationType', 'PaymentTerms', 'PaysTax',
        'PeriodLockDate', 'PeriodLockDateString', 'Phones', 'RegistrationNumber',
        'SalesTaxBasis', 'SalesTaxPeriod', 'ShortCode', 'TaxNumber', 'Timezone', 'Version'
        }
    ),
    "BankTransaction": frozenset(
        {
        'BankAccount', 'BankTransactionID', 'BankTransactionNumber', 'Contact',
        'CurrencyCode', 'CurrencyRate', 'Date', 'DateString', 'HasAttachments',
        'IsReconciled', 'LineAmountTypes', 'LineItems', 'OverpaymentID', 'PrepaymentID',
        'Reference', 'Status', 'StatusAttributeString', 'SubTotal', 'Total', 'TotalTax',
        'Type', 'UpdatedDateUTC', 'UpdatedDateUTCString', 'Url', 'ValidationErrors'
        }
    ),
}
